import { Body, Controller, Get, HttpCode, Inject, Patch, Post, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IdentitySubjects, type ResetApiTokenReply, type TokenMetadata, type UserProfile } from '@app/contracts';
import { ServicesClient } from '../common/services.client';
import { AnyUser } from '../auth/permission.decorator';
import { bearerToken } from '../auth/auth.guard';
import { AnsweredHere } from '../auth/public.decorator';
import { VERIFIED_TOKENS, VerifiedTokens } from '../auth/verified-tokens';
import type { GatewayRequest } from '../common/request-context';
import { ChangeEmailDto, ProfileResponse, TokenMetadataResponse, TokenResponse, UpdateProfileDto } from './me.dto';

/** What `GET /me` answers a service account's token. */
interface ServiceAccountPrincipal {
  id: string;
  type: 'service_account';
  name: string;
  organizationId: string;
}

@ApiTags('profile')
@ApiBearerAuth()
@AnyUser()
@Controller('me')
export class MeController {
  constructor(
    private readonly services: ServicesClient,
    @Inject(VERIFIED_TOKENS) private readonly verified: VerifiedTokens,
  ) {}

  @ApiOperation({ operationId: 'getMe', summary: 'Get your profile' })
  @Get()
  @AnyUser({ serviceAccounts: true })
  @AnsweredHere()
  @ApiOkResponse({ type: ProfileResponse, description: "with a service account's token: `{ id, type: 'service_account', name, organizationId }`" })
  async me(@Req() req: GatewayRequest): Promise<UserProfile | ServiceAccountPrincipal> {
    const user = req.user!;
    if (user.tokenKind === 'service-account') return { id: user.userId, type: 'service_account', name: user.username, organizationId: user.organizationId! };
    // the profile kept with the cached token, true as of the request's read index (docs/identity.md "Verified tokens at the gateway")
    const token = bearerToken(req.headers.authorization)!;
    const cached = this.verified.profile(token);
    if (cached) return cached;
    const profile = await this.services.call<UserProfile>(IdentitySubjects.getUser(), { userId: user.userId }, req);
    this.verified.rememberProfile(token, profile, req.ctx.readIndex ?? 0);
    return profile;
  }

  @ApiOperation({ operationId: 'updateMe', summary: 'Change your username or screen name' })
  @Patch()
  @ApiOkResponse({ type: ProfileResponse })
  @ApiConflictResponse({ description: 'USERNAME_TAKEN (usernames are unique regardless of case)' })
  update(@Body() body: UpdateProfileDto, @Req() req: GatewayRequest): Promise<UserProfile> {
    return this.services.call<UserProfile>(IdentitySubjects.changeProfile(), { userId: req.user!.userId, name: body.name, username: body.username }, req);
  }

  @ApiOperation({ operationId: 'changeMyEmail', summary: 'Change your email address' })
  @Put('email')
  @ApiOkResponse({ type: ProfileResponse })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN (emails are unique regardless of case)' })
  changeEmail(@Body() body: ChangeEmailDto, @Req() req: GatewayRequest): Promise<UserProfile> {
    return this.services.call<UserProfile>(IdentitySubjects.changeEmail(), { userId: req.user!.userId, email: body.email }, req);
  }

  @ApiOperation({ operationId: 'resetMyApiToken', summary: 'Reset your personal API token (the new token is shown once)' })
  @Post('token')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenResponse, description: 'the old token is refused from now on' })
  resetToken(@Req() req: GatewayRequest): Promise<ResetApiTokenReply> {
    return this.services.call<ResetApiTokenReply>(IdentitySubjects.resetApiToken(), { userId: req.user!.userId }, req);
  }

  @ApiOperation({ operationId: 'getMyApiToken', summary: "Get your personal API token's metadata (never the token)" })
  @Get('token')
  @ApiOkResponse({ type: TokenMetadataResponse })
  tokenMetadata(@Req() req: GatewayRequest): Promise<TokenMetadata> {
    return this.services.call<TokenMetadata>(IdentitySubjects.getTokenMetadata(), { userId: req.user!.userId }, req);
  }
}
