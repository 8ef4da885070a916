import { AccessController } from './access.controller';
import { PermissionsController } from '../permissions/permissions.controller';
import { RolesController } from '../roles/roles.controller';

/** The gateway controllers of the authorization routes (roles, permissions, bindings, project members). */
export const AUTHORIZATION_CONTROLLERS = [RolesController, PermissionsController, AccessController];
