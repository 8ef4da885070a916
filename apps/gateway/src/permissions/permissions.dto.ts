import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsUUID, isUUID } from 'class-validator';
import { PERMISSIONS } from '@app/contracts';
import { onlyFields, PlainlyValid } from '../common/plainly-valid';

const NAMES = PERMISSIONS.map((p) => p.name);
const NAME_SET = new Set<unknown>(NAMES);

export class PermissionResponse {
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['organization', 'project'] }) scope: 'organization' | 'project';
  @ApiProperty() description: string;
}

export class PermissionPage {
  @ApiProperty({ type: [PermissionResponse] }) items: PermissionResponse[];
  @ApiProperty({ type: String, nullable: true, description: 'always null: the catalogue is one page' }) nextCursor: null;
}

export class CatalogueQuery {
  @ApiPropertyOptional({ enum: ['organization', 'project'] })
  @IsOptional()
  @IsIn(['organization', 'project'])
  scope?: 'organization' | 'project';
}

@PlainlyValid(
  (b) =>
    onlyFields(b, ['userId', 'projectId', 'permissions']) &&
    (b.userId === undefined || isUUID(b.userId)) &&
    (b.projectId === undefined || isUUID(b.projectId)) &&
    Array.isArray(b.permissions) &&
    b.permissions.length >= 1 &&
    b.permissions.length <= 100 &&
    b.permissions.every((p) => NAME_SET.has(p)),
)
export class CheckPermissionsDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'another user (needs organization.people.view); default: the caller' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'evaluate project permissions in this project' })
  @IsOptional()
  @IsUUID()
  projectId?: string;

  @ApiProperty({ type: [String], description: 'names from the catalogue' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsIn(NAMES, { each: true, message: 'each permission must be a name from the catalogue (GET /api/v1/permissions)' })
  permissions: string[];
}

export class CheckPermissionsResponse {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'boolean' }, example: { 'organization.view': true } }) allowed: Record<string, boolean>;
}

export class EffectivePermissionsQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  projectId?: string;
}

class PermissionSourceResponse {
  @ApiProperty({ format: 'uuid' }) roleId: string;
  @ApiProperty() roleName: string;
  @ApiProperty({ enum: ['direct', 'group'] }) via: 'direct' | 'group';
  @ApiPropertyOptional({ format: 'uuid' }) groupId?: string;
  @ApiPropertyOptional() groupName?: string;
  @ApiProperty({
    enum: ['organization', 'project'],
    description: 'organization: an organization role (for project permissions, the project role it gives in every project)',
  })
  scope: 'organization' | 'project';
}

class EffectivePermissionResponse {
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['organization', 'project'] }) scope: 'organization' | 'project';
  @ApiProperty({ type: [PermissionSourceResponse] }) sources: PermissionSourceResponse[];
}

export class EffectivePermissionsResponse {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) projectId: string | null;
  @ApiProperty({ type: [EffectivePermissionResponse] }) permissions: EffectivePermissionResponse[];
}
