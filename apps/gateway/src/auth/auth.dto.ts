import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, MaxLength } from 'class-validator';
import { PASSWORD_MAX } from '@app/contracts';

export class LoginDto {
  @ApiProperty({ description: 'email or username', maxLength: 320 })
  @IsString()
  @Length(1, 320)
  login: string;

  @ApiProperty({ maxLength: 1024, format: 'password' })
  @IsString()
  @Length(1, 1024)
  password: string;
}

export class ChangePasswordDto {
  @ApiProperty({ description: 'email or username', maxLength: 320 })
  @IsString()
  @Length(1, 320)
  login: string;

  @ApiProperty({ description: 'the current (possibly temporary) password', maxLength: 1024, format: 'password' })
  @IsString()
  @Length(1, 1024)
  currentPassword: string;

  @ApiProperty({ description: 'at least 10 characters, not the email, username or current password', maxLength: PASSWORD_MAX, format: 'password' })
  @IsString()
  @MaxLength(1024)
  newPassword: string;
}

export class SessionResponse {
  @ApiProperty({ description: 'session token (`ppl_…`), shown once' }) token: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}
