import { Module, type DynamicModule } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { Infrastructure } from '@app/platform';
import { ACCESS_VIEW } from './access/access.tokens';
import { startAccessView } from './model/view.consumer';
import { AccessController } from './commands/access.controller';
import { AccessQueriesController } from './queries/access-queries.controller';

@Module({})
export class AuthorizationModule {
  static register(infra: Infrastructure): DynamicModule {
    return {
      module: AuthorizationModule,
      controllers: [AccessController, AccessQueriesController],
      providers: [
        {
          provide: ACCESS_VIEW,
          useFactory: async () => {
            const running = await startAccessView({
              js: infra.js,
              jsm: infra.jsm,
              logger: infra.logger,
              onPoison: () => infra.deadLetters.inc({ projection: 'authorization-view' }),
            });
            infra.onClose.push(() => running.stop());
            const view = running.view;
            new Gauge({
              name: 'authorization_view_sequence',
              help: 'last events-stream sequence applied to the in-memory authorization view',
              registers: [infra.metrics],
              collect() {
                this.set(view.sequence);
              },
            });
            return view;
          },
        },
      ],
    };
  }
}
