import { PERMISSIONS, type PermissionScope } from '@app/contracts';

/**
 * A set of permissions as a bitset: bit i is PERMISSIONS[i] of the catalogue (69 of them, three 32-bit words).
 * Testing one permission of a role is one array read and a shift.
 */
export type PermissionBits = Uint32Array;

const WORDS = Math.ceil(PERMISSIONS.length / 32);
const INDEX = new Map(PERMISSIONS.map((p, i) => [p.name, i]));

/** Position of a permission in the catalogue, or -1 when there is no such permission. */
export const permissionIndex = (name: string): number => INDEX.get(name) ?? -1;

export const scopeOfIndex = (i: number): PermissionScope => PERMISSIONS[i].scope;

export function toBits(permissions: Iterable<string>): PermissionBits {
  const bits = new Uint32Array(WORDS);
  for (const p of permissions) {
    const i = INDEX.get(p);
    if (i !== undefined) bits[i >>> 5] |= 1 << (i & 31);
  }
  return bits;
}

export const hasBit = (bits: PermissionBits | undefined, i: number): boolean => bits !== undefined && ((bits[i >>> 5] >>> (i & 31)) & 1) === 1;

/** Names in catalogue order, without duplicates or unknown names. */
export function normalizePermissions(permissions: Iterable<string>): string[] {
  const bits = toBits(permissions);
  return PERMISSIONS.filter((_, i) => hasBit(bits, i)).map((p) => p.name);
}
