import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { Description, EntityName, type RolePage, type RoleView } from '@app/contracts';
import { IsTextField } from '../common/text-fields.dto';
import { PageQuery } from '../common/page.dto';
import { NameDescriptionPatch } from '../common/name-description.dto';

export class RoleResponse implements RoleView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: ['organization', 'project'] }) scope: 'organization' | 'project';
  @ApiProperty({ type: [String] }) permissions: string[];
  @ApiProperty({ description: 'built-in roles are read-only' }) builtIn: boolean;
}

export class RolePageResponse implements RolePage {
  @ApiProperty({ type: [RoleResponse] }) items: RoleResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class ListRolesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['organization', 'project'] })
  @IsOptional()
  @IsIn(['organization', 'project'])
  scope?: 'organization' | 'project';
}

export class CreateRoleDto {
  @ApiProperty({ maxLength: 100 })
  @IsTextField(EntityName)
  name: string;

  @ApiProperty({ maxLength: 1000 })
  @IsTextField(Description)
  description: string;

  @ApiProperty({ enum: ['organization', 'project'] })
  @IsIn(['organization', 'project'])
  scope: 'organization' | 'project';

  @ApiProperty({ type: [String], description: 'permission names of the role’s scope; organization.view / project.view are always added' })
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  permissions: string[];
}

export class ChangeRoleDto extends NameDescriptionPatch {
  @ApiPropertyOptional({ type: [String], description: 'replaces the role’s permissions' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  permissions?: string[];
}
