// Identities of archive cases, derived deterministically so that a re-import finds what it did before:
// the 64-bit index key of a case, the keyed patient hash, the UIDs given to imported PNG/JPEG files.
import { createHash, createHmac } from 'node:crypto';
import type { NewCase } from './case-store.js';

const MAX_KEY = (1n << 63n) - 1n;

/**
 * The index key of a case: 63 bits of SHA-256 of its SOP Instance UID (positive, so it is also a valid
 * SQLite INTEGER). A collision between two UIDs is refused by the case store (UNIQUE constraint).
 */
export function caseKeyOf(SOPInstanceUID: string): bigint {
  const digest = createHash('sha256').update(`case|${SOPInstanceUID}`).digest();
  const key = digest.readBigUInt64BE(0) & MAX_KEY;
  return key === 0n ? 1n : key;
}

/**
 * The stored patient key: HMAC-SHA256 (keyed with archive.patientKeySecret) of the issuer and the
 * patient ID, hex. The raw ID is never stored or logged; without the secret the key cannot be linked
 * back to an ID. '' when the ID is empty (an unknown patient matches no one).
 */
export function patientKeyOf(secret: string, PatientID: string, IssuerOfPatientID = ''): string {
  const id = PatientID.trim();
  if (id === '') return '';
  return createHmac('sha256', secret).update(`${IssuerOfPatientID.trim()}\u0000${id}`).digest('hex');
}

/** A UID (2.25 root) derived from its parts: the same image file always gets the same UID. */
export function derivedUid(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${digest}`).toString(10)}`;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** Fingerprint of everything a case row holds besides its vector: equal means a re-import changes nothing. */
export function caseFingerprint(c: Omit<NewCase, 'facts'> & { facts: NonNullable<NewCase['facts']> }): string {
  const payload = {
    SOPInstanceUID: c.SOPInstanceUID,
    instanceVersion: c.instanceVersion,
    StudyInstanceUID: c.StudyInstanceUID,
    AccessionNumber: c.AccessionNumber,
    StudyDate: c.StudyDate,
    patientKey: c.patientKey,
    source: c.source,
    facts: c.facts,
    // Only when set, so that cases stored before the field existed keep their fingerprints.
    ...(c.retrieveAETitle ? { retrieveAETitle: c.retrieveAETitle } : {}),
    ...(c.publicCollection ? { publicCollection: c.publicCollection } : {}),
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(payload)))
    .digest('hex')
    .slice(0, 32);
}
