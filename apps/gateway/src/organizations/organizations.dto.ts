import { PageQuery } from '../common/page.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  isUUID,
  Length,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { Email, EMAIL_MAX, EntityName, NAME_MAX, PersonName, Username, USERNAME_PATTERN } from '@app/contracts';
import { IsTextField } from '../common/text-fields.dto';
import { IsRoleRef, ROLE_REF_DESCRIPTION } from '../common/role-ref';
import { onlyFields, PlainlyValid } from '../common/plainly-valid';

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/;

export class CreateOrganizationDto {
  @ApiProperty({ maxLength: 100 })
  @IsTextField(EntityName)
  name: string;

  @ApiPropertyOptional({ maxLength: 50, pattern: SLUG_PATTERN.source, description: 'default: derived from the name' })
  @IsOptional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: 'slug must be 1 to 50 lowercase letters, digits or "-", not starting or ending with "-"' })
  @ValidateBy({
    name: 'not-uuid-shaped',
    validator: {
      validate: (v: unknown) => !isUUID(v),
      defaultMessage: () => 'slug must not have the form of a UUID: a path segment of that form is an organization id',
    },
  })
  slug?: string;
}

export class OrganizationResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
}

export class OrganizationPage {
  @ApiProperty({ type: [OrganizationResponse] }) items: OrganizationResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

@PlainlyValid((q) => onlyFields(q, []))
export class ListPeopleQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'prefix of a username, name, word of a name or email (case-insensitive)', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  search?: string;

  @ApiPropertyOptional({ enum: ['user', 'service_account', 'group'] })
  @IsOptional()
  @IsIn(['user', 'service_account', 'group'])
  type?: 'user' | 'service_account' | 'group';

  @ApiPropertyOptional({ description: `held directly or through a group: ${ROLE_REF_DESCRIPTION} (organization scope)` })
  @IsOptional()
  @IsRoleRef()
  roleId?: string;
}

class GroupRef {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
}
class RoleRef {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['direct', 'group'] }) source: 'direct' | 'group';
  @ApiPropertyOptional({ type: [GroupRef], description: "`source: group`: the person's groups that give this role" })
  groups?: GroupRef[];
}
export class PersonResponse {
  @ApiProperty({ enum: ['user', 'service_account', 'group'] }) type: 'user' | 'service_account' | 'group';
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: "a user's display name (their handle is `username`), a group's name" }) name: string;
  @ApiPropertyOptional({ description: "a user's username (handle)" }) username?: string;
  @ApiPropertyOptional() email?: string;
  @ApiProperty({ type: [RoleRef] }) roles: RoleRef[];
  @ApiProperty({ type: [GroupRef] }) groups: GroupRef[];
}
export class PeoplePage {
  @ApiProperty({ type: [PersonResponse] }) items: PersonResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class AddPeopleDto {
  @ApiProperty({ type: [String], description: 'usernames (exact, case-sensitive) or emails', maxItems: 500 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @Length(1, EMAIL_MAX, { each: true })
  handles: string[];

  @ApiPropertyOptional({ description: `an organization role, default Member: ${ROLE_REF_DESCRIPTION}`, example: 'Member' })
  @IsOptional()
  @IsRoleRef()
  roleId?: string;
}

export class AddPeopleResponse {
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        userId: { type: 'string', format: 'uuid', description: 'the same as id' },
        username: { type: 'string' },
      },
    },
  })
  added: Array<{ id: string; userId: string; username: string }>;
  @ApiProperty({ type: [String] }) notFound: string[];
  @ApiProperty({ type: [String] }) alreadyMembers: string[];
}

export class NewAccountDto {
  @ApiProperty({ format: 'email', maxLength: EMAIL_MAX })
  @IsTextField(Email)
  email: string;

  @ApiPropertyOptional({ pattern: USERNAME_PATTERN.source })
  @IsOptional()
  @IsTextField(Username)
  username?: string;

  @ApiPropertyOptional({ maxLength: NAME_MAX })
  @IsOptional()
  @IsTextField(PersonName)
  name?: string;
}

export class CreateAccountsDto {
  @ApiProperty({ type: [NewAccountDto], maxItems: 500 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => NewAccountDto)
  accounts: NewAccountDto[];

  @ApiPropertyOptional({ description: `an organization role, default Member: ${ROLE_REF_DESCRIPTION}`, example: 'Member' })
  @IsOptional()
  @IsRoleRef()
  roleId?: string;
}

export class CreateAccountsResponse {
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        userId: { type: 'string', format: 'uuid', description: 'the same as id' },
        email: { type: 'string' },
        username: { type: 'string' },
        temporaryPassword: { type: 'string' },
      },
    },
    description: 'temporary passwords are shown once',
  })
  created: Array<{ id: string; userId: string; email: string; username: string; temporaryPassword: string }>;
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        userId: { type: 'string', format: 'uuid', description: 'the same as id' },
        email: { type: 'string' },
      },
    },
  })
  existing: Array<{ id: string; userId: string; email: string }>;
}

export class TemporaryPasswordResponse {
  @ApiProperty({ description: 'shown once; the user must change it at next login' }) temporaryPassword: string;
  @ApiProperty({ description: "the user's personal API token was revoked (false: they had none); they set a new one after logging in" })
  apiTokenRevoked: boolean;
}
