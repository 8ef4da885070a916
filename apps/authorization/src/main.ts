import 'reflect-metadata';
import { runServiceMain } from '@app/platform';
import { AuthorizationModule } from './authorization.module';

runServiceMain('authorization', AuthorizationModule.register());
