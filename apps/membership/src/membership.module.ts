import { Module, type DynamicModule } from '@nestjs/common';
import type { Infrastructure } from '@app/platform';

@Module({})
export class MembershipModule {
  static register(_infra: Infrastructure): DynamicModule {
    return { module: MembershipModule };
  }
}
