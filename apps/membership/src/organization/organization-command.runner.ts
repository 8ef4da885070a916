import { CONSISTENCY_TOKEN_FIELD, formatConsistencyToken } from '@app/contracts';
import { organizationStreamId } from './organization.state';

/*
 * Every request arrives checked and normalized against its schema (libs/contracts/src/membership/messages.ts:
 * ids lower-cased, names and descriptions as fields.ts defines them) by the messaging guard; what is left to the
 * command slices (commands/<use-case>/) is what the request alone cannot tell.
 */

/**
 * `reply` with the command's consistency token (`organization-<id>@<version>`: its commit's position, or the
 * version it was decided on), which the gateway takes out into the `Consistency-Token` header and waits for in
 * the caller's later reads (docs/architecture.md "Writes that do not wait on the broker").
 */
export function withToken<B extends object>(organizationId: string, version: number, reply: B): B & { [CONSISTENCY_TOKEN_FIELD]?: string } {
  if (version < 1) return reply;
  return { ...reply, [CONSISTENCY_TOKEN_FIELD]: formatConsistencyToken({ streamId: organizationStreamId(organizationId), version }) };
}
