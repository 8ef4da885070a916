import { Controller, Get, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IdentitySubjects, type UserProfile } from '@app/contracts';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';

class ProfileResponse implements UserProfile {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty() name: string;
  @ApiProperty() email: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

@ApiTags('profile')
@ApiBearerAuth()
@Controller('me')
export class MeController {
  constructor(private readonly services: ServicesClient) {}

  @Get()
  @ApiOkResponse({ type: ProfileResponse })
  me(@Req() req: GatewayRequest): Promise<UserProfile> {
    return this.services.call<UserProfile>(IdentitySubjects.getUser(), { userId: req.user!.userId }, req);
  }
}
