import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { Email, EMAIL_MAX, NAME_MAX, PersonName, Username, USERNAME_MAX, USERNAME_PATTERN, type TokenMetadata, type UserProfile } from '@app/contracts';
import { IsTextField } from '../common/text-fields.dto';

export class ProfileResponse implements UserProfile {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty() name: string;
  @ApiProperty() email: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class UpdateProfileDto {
  @ApiPropertyOptional({ maxLength: NAME_MAX })
  @IsOptional()
  @IsTextField(PersonName)
  name?: string;

  @ApiPropertyOptional({ maxLength: USERNAME_MAX, pattern: USERNAME_PATTERN.source })
  @IsOptional()
  @IsTextField(Username)
  username?: string;
}

export class ChangeEmailDto {
  @ApiProperty({ format: 'email', maxLength: EMAIL_MAX })
  @IsTextField(Email)
  email: string;
}

export class TokenResponse {
  @ApiProperty({ description: 'the new personal API token (`ppt_…`), shown once' }) token: string;
  @ApiProperty({ format: 'uuid' }) tokenId: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({
    description: 'false when a concurrent reset was made after this one: the last reset wins, GET /me/token shows the current tokenId',
  })
  current: boolean;
}

export class TokenMetadataResponse implements TokenMetadata {
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'id of the current token (null: none)' }) tokenId: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) createdAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'to the minute' }) lastUsedAt: string | null;
}
