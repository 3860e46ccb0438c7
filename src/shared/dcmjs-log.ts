// dcmjs reports what it tolerates in a file (a fixed-length value of the wrong length, such as the
// Patient's Age "68" of a real CR file; a guessed VR in Implicit VR) straight on the console at 'error'
// level, through its own loggers: unstructured lines among our JSON logs, and not ours to act on.
// What dcmjs cannot read surfaces as an exception, which the caller logs with the instance's UIDs.
import dcmjs from 'dcmjs';

/** Silences dcmjs's console loggers (process-wide; every module that parses with dcmjs calls it). */
export function silenceDcmjsConsole(): void {
  dcmjs.log.setLevel('silent');
  // A child logger made when dcmjs loaded: it does not follow the level set above.
  dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
}
