import type { CommandMeta, NewEvent } from '@app/contracts';
import type { Infrastructure } from '@app/platform';
import type { OrganizationCommand } from './organization.decider';
import { runOrganizationCommand } from './organization.repository';
import { organizationDeps } from './organization.deps';
import type { OrganizationState } from './organization.state';

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
