import { createHash } from 'node:crypto';

// UIDs become path components in the store, so they are validated strictly (PS3.5 9.1): digits and
// dots, components without leading zeros, at most 64 characters. Anything else could escape the tree.
const UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

export function isValidUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && UID.test(value);
}

/** Lenient check for file names: leading zeros appear in the wild and are harmless on disk. */
export function isSafeUidPath(value: string): boolean {
  return value.length > 0 && value.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(value);
}

/**
 * A UID derived from its parts (2.25 + 128 bits of SHA-256): the same analysis of the same image
 * gets the same result UIDs, so a re-run replaces instead of duplicating in the PACS.
 */
export function hashUid(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${digest}`).toString(10)}`;
}

/** Our UID root (2.25 = UUID-derived, PS3.5 B.2): needs no registration. */
export function uuidUid(uuid: string): string {
  return `2.25.${BigInt(`0x${uuid.replace(/-/g, '')}`).toString(10)}`;
}
