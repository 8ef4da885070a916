import { Body, Controller, ForbiddenException, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorCode, IdentitySubjects, type LoginReply, type SessionReply } from '@app/contracts';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { ProfileResponse } from '../me/me.dto';
import { ChangePasswordDto, LoginDto, SessionResponse } from './auth.dto';
import { Public } from './public.decorator';
import { AnyUser } from './permission.decorator';

class LoginResponse extends SessionResponse {
  @ApiProperty({ type: ProfileResponse }) user: ProfileResponse;
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly services: ServicesClient) {}

  @ApiOperation({ operationId: 'login', summary: 'Log in with a username or email and a password' })
  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginResponse })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS (the same for an unknown login and a wrong password)' })
  @ApiForbiddenResponse({ description: 'PASSWORD_CHANGE_REQUIRED: the password is temporary' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: too many failed attempts for this login or from this address' })
  login(@Body() body: LoginDto, @Req() req: GatewayRequest): Promise<LoginReply> {
    return this.services.call<LoginReply>(IdentitySubjects.login(), { login: body.login, password: body.password }, req);
  }

  @ApiOperation({ operationId: 'changePassword', summary: 'Change your password (also the temporary one, at first login)' })
  @Public()
  @Post('password')
  @HttpCode(200)
  @ApiOkResponse({ type: SessionResponse })
  @ApiBadRequestResponse({ description: 'WEAK_PASSWORD or VALIDATION_FAILED' })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: too many failed attempts for this login or from this address' })
  changePassword(@Body() body: ChangePasswordDto, @Req() req: GatewayRequest): Promise<SessionReply> {
    return this.services.call<SessionReply>(IdentitySubjects.changePassword(), { ...body }, req);
  }

  @ApiOperation({ operationId: 'logout', summary: 'End every login session of the caller' })
  @AnyUser()
  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'the session token is revoked' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: called with a personal API token instead of a session token' })
  async logout(@Req() req: GatewayRequest): Promise<void> {
    if (req.user?.tokenKind !== 'session')
      throw new ForbiddenException({ code: ErrorCode.FORBIDDEN, message: 'logout needs a session token (use POST /api/v1/me/token to replace an API token)' });
    const token = String(req.headers.authorization ?? '').replace(/^bearer\s+/i, '');
    await this.services.call(IdentitySubjects.logout(), { token }, req);
  }
}
