// Logging. Patient identity never belongs in a log line; `redact` is the safety net for a field that
// slips into a logged object anyway.
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

export const PHI_FIELDS = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'OtherPatientIDs',
  'OtherPatientNames',
  'PatientAddress',
  'PatientTelephoneNumbers',
  'IssuerOfPatientID',
];

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const paths = PHI_FIELDS.flatMap((f) => [f, `*.${f}`]);
  return pino({ level, redact: { paths, censor: '[redacted]' }, base: { service: 'precedent' } }, destination);
}
