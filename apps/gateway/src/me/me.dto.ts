import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { EMAIL_MAX, NAME_MAX, USERNAME_MAX, USERNAME_PATTERN, type TokenMetadata, type UserProfile } from '@app/contracts';

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
  @IsString()
  @Length(1, NAME_MAX)
  name?: string;

  @ApiPropertyOptional({ maxLength: USERNAME_MAX, pattern: USERNAME_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username must be 2 to 39 letters, digits, "-", "_" or ".", starting with a letter or digit' })
  username?: string;
}

export class ChangeEmailDto {
  @ApiProperty({ format: 'email', maxLength: EMAIL_MAX })
  @IsString()
  @MaxLength(EMAIL_MAX)
  @IsEmail()
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
