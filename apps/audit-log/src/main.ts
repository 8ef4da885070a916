import 'reflect-metadata';
import { runServiceMain } from '@app/platform';
import { AuditLogModule } from './audit-log.module';

runServiceMain('audit-log', AuditLogModule);
