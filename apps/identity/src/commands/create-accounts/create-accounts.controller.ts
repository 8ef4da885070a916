import { Controller, Inject } from '@nestjs/common';
import type { Db } from 'mongodb';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentitySubjects, type CreateAccountsReply, type CreateAccountsRequest, type Message } from '@app/contracts';
import type { EventStore, OutboxRelay, Reservations } from '@app/event-store';
import { EVENT_STORE, MONGO_DB, OUTBOX_RELAY, RESERVATIONS } from '@app/platform';
import { createAccounts, type AccountsDeps } from './create-accounts.handler';

@Controller()
export class CreateAccountsController {
  private readonly deps: AccountsDeps;

  constructor(
    @Inject(MONGO_DB) db: Db,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(OUTBOX_RELAY) relay: OutboxRelay,
    @Inject(RESERVATIONS) reservations: Reservations,
  ) {
    this.deps = { db, store, relay, reservations };
  }

  @MessagePattern(IdentitySubjects.createAccounts())
  create(@Payload() msg: Message<CreateAccountsRequest>): Promise<CreateAccountsReply> {
    return createAccounts(this.deps, msg.body, msg.meta);
  }
}
