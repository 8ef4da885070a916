import { CONSISTENCY_TOKEN_FIELD, formatConsistencyToken, type CommandMeta, type NewEvent } from '@app/contracts';
import type { Infrastructure } from '@app/platform';
import type { OrganizationCommand } from './organization.decider';
import { runOrganizationCommand } from './organization.repository';
import { organizationDeps } from './organization.deps';
import { organizationStreamId, type OrganizationState } from './organization.state';

/*
 * Every request arrives checked and normalized against its schema (libs/contracts/src/membership/messages.ts:
 * ids lower-cased, names and descriptions as fields.ts defines them) by the messaging guard; what is left to the
 * command slices (commands/<use-case>/) is what the request alone cannot tell.
 */

/**
 * Runs a command on the organization's stream: every rule, the grants included, is the decider's. A command id
 * that already ran is not decided again: it gets its first outcome, even if what the actor may do has changed.
 */
export function runOrganization<R>(
  infra: Infrastructure,
  command: OrganizationCommand,
  meta: CommandMeta,
  reply?: (events: NewEvent[], state: OrganizationState) => R,
) {
  return runOrganizationCommand<R>(organizationDeps(infra), command, meta, reply);
}

/**
 * `reply` with the command's consistency token (`organization-<id>@<version>`: its commit's position, or the
 * version it was decided on), which the gateway takes out into the `Consistency-Token` header and waits for in
 * the caller's later reads (docs/architecture.md "Writes that do not wait on the broker").
 */
export function withToken<B extends object>(organizationId: string, version: number, reply: B): B & { [CONSISTENCY_TOKEN_FIELD]?: string } {
  if (version < 1) return reply;
  return { ...reply, [CONSISTENCY_TOKEN_FIELD]: formatConsistencyToken({ streamId: organizationStreamId(organizationId), version }) };
}
