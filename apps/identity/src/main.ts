import 'reflect-metadata';
import { runServiceMain } from '@app/platform';
import { IdentityModule } from './identity.module';

runServiceMain('identity', IdentityModule);
