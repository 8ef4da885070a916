import 'reflect-metadata';
import { runServiceMain } from '@app/platform';
import { MembershipModule } from './membership.module';

runServiceMain('membership', MembershipModule);
