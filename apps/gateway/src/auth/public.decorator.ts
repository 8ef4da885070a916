import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'isPublic';
/** The route needs no token. Every other route is authenticated by the global guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const ANSWERED_HERE = 'answeredHere';
/**
 * The route answers from the gateway's memory (token cache, access index), forwarding nothing: while the read
 * lease holds, its read index is the lease's floor instead of a look-up of the events stream's end (a refusal is
 * decided again after a look-up: access-check.ts). docs/architecture.md "Read leases".
 */
export const AnsweredHere = () => SetMetadata(ANSWERED_HERE, true);
