import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsISO8601, IsOptional, IsString } from 'class-validator';
import { Description, DESCRIPTION_MAX, EntityName, ENTITY_NAME_MAX, Username, USERNAME_MAX, USERNAME_PATTERN } from '@app/contracts';
import { IsTextField } from '../common/text-fields.dto';
import { IsRoleRef, ROLE_REF_DESCRIPTION } from '../common/role-ref';

const NAME = { maxLength: USERNAME_MAX, pattern: USERNAME_PATTERN.source, description: 'a handle, unique in the organization regardless of case' };

export class CreateServiceAccountDto {
  @ApiProperty(NAME)
  @IsTextField(Username)
  name: string;

  @ApiPropertyOptional({ maxLength: DESCRIPTION_MAX, default: '' })
  @IsOptional()
  @IsTextField(Description)
  description?: string;

  @ApiPropertyOptional({ description: `${ROLE_REF_DESCRIPTION}; default Member, never Owner` })
  @IsOptional()
  @IsString()
  @IsRoleRef()
  roleId?: string;
}

export class UpdateServiceAccountDto {
  @ApiPropertyOptional(NAME)
  @IsOptional()
  @IsTextField(Username)
  name?: string;

  @ApiPropertyOptional({ maxLength: DESCRIPTION_MAX })
  @IsOptional()
  @IsTextField(Description)
  description?: string;

  @ApiPropertyOptional({ description: 'false: every token is refused until it is true again' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class CreateServiceAccountTokenDto {
  @ApiProperty({ maxLength: ENTITY_NAME_MAX })
  @IsTextField(EntityName)
  name: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'when the token stops working; in the future and at most the configured maximum from now (default: that maximum)',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

class RoleRef {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
}
class ProjectRole {
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ format: 'uuid' }) roleId: string;
  @ApiProperty() roleName: string;
}
export class ServiceAccountResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['service_account'] }) type: 'service_account';
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: RoleRef, nullable: true }) role: RoleRef | null;
  @ApiProperty({ type: [ProjectRole] }) projectRoles: ProjectRole[];
  @ApiProperty() active: boolean;
  @ApiProperty({ format: 'uuid', description: 'the user (or service account) who created it' }) createdBy: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}
export class ServiceAccountPage {
  @ApiProperty({ type: [ServiceAccountResponse] }) items: ServiceAccountResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
class TokenMetadataItem {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'to the minute' }) lastUsedAt: string | null;
}
export class ServiceAccountDetailResponse extends ServiceAccountResponse {
  @ApiProperty({ type: [TokenMetadataItem], description: 'never the tokens themselves' }) tokens: TokenMetadataItem[];
}
export class CreatedTokenResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ description: 'the token (`pps_…`), shown once' }) token: string;
}
