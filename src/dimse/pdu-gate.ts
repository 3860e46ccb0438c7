// The Upper Layer checks dcmjs-dimse does not make, applied to every byte a peer sends before the
// library sees it (PS3.8 9.2 state machine, 9.3 PDU structure). The library trusts declared lengths
// (a header claiming 0xFFFFFFFF made it re-concatenate the partial PDU on every TCP chunk), writes
// presentation context IDs into a byte without checking (129 contexts, or one ID used twice, threw
// from AAssociateAC.write and took the process down), and buffers any data set without limit. The
// gate frames PDUs itself, bounds each by type, and says pass, reject (A-ASSOCIATE-RJ) or abort.
import { DICOMApplicationContext } from '../dicom/uids.js';

/** PS3.8 9.3.1 */
const PDU = { ASSOCIATE_RQ: 0x01, ASSOCIATE_AC: 0x02, ASSOCIATE_RJ: 0x03, P_DATA_TF: 0x04, RELEASE_RQ: 0x05, RELEASE_RP: 0x06, ABORT: 0x07 } as const;
/** Presentation context IDs are odd numbers 1-255 (PS3.8 9.3.2.2): at most 128 in one request. */
export const MAX_PRESENTATION_CONTEXTS = 128;
/** An A-ASSOCIATE-RQ proposing 128 contexts with many transfer syntaxes each is still far below this. */
const MAX_ASSOCIATE_RQ_BYTES = 256 * 1024;
/** A-RELEASE-RQ/RP and A-ABORT have 4-byte bodies (PS3.8 9.3.6-9.3.8). */
const MAX_SMALL_PDU_BYTES = 64;
/** A command set is a few hundred bytes (PS3.7 E.1); it is buffered whole, so it is bounded. */
const MAX_COMMAND_BYTES = 64 * 1024;
const C_STORE_RQ = 0x0001;
const C_ECHO_RQ = 0x0030;
const NO_DATA_SET = 0x0101;

export type GateVerdict =
  | { kind: 'pass'; pdu: Buffer }
  /** A-ASSOCIATE-RJ values of PS3.8 9.3.4, then close. */
  | { kind: 'reject'; result: 1 | 2; source: 1 | 2 | 3; reason: number; why: string }
  /** A-ABORT, then close. */
  | { kind: 'abort'; why: string };

export interface GateOptions {
  /** The Maximum Length we announced (PS3.8 D.1): the bound of every P-DATA-TF we accept. */
  maxPduLength: () => number;
  /** IDs of the presentation contexts we accepted; undefined until the A-ASSOCIATE-AC is sent. */
  acceptedContexts: () => ReadonlySet<number> | undefined;
}

const reject = (why: string, source: 1 | 2 = 1, reason = 1): GateVerdict => ({ kind: 'reject', result: 1, source, reason, why });
const abort = (why: string): GateVerdict => ({ kind: 'abort', why });
const trimUid = (b: Buffer): string => b.toString('latin1').replace(/[\0 ]+$/, '');

/** Checks an A-ASSOCIATE-RQ body (PS3.8 9.3.2); undefined when it may go on to the AE-title policy. */
export function checkAssociateRq(body: Buffer): GateVerdict | undefined {
  if (body.length < 68) return abort('A-ASSOCIATE-RQ shorter than its fixed fields');
  // Bit 0 of Protocol-version: version 1, the only one (PS3.8 9.3.2, reject reason 2 of source 2).
  if ((body.readUInt16BE(0) & 0x0001) === 0) return reject('protocol version not supported', 2, 2);
  let applicationContext: string | undefined;
  const ids = new Set<number>();
  let contexts = 0;
  for (let off = 68; off < body.length;) {
    if (off + 4 > body.length) return abort('A-ASSOCIATE-RQ item header runs past the PDU');
    const type = body.readUInt8(off);
    const length = body.readUInt16BE(off + 2);
    if (off + 4 + length > body.length) return abort('A-ASSOCIATE-RQ item runs past the PDU');
    const value = body.subarray(off + 4, off + 4 + length);
    if (type === 0x10) {
      if (applicationContext !== undefined) return reject('more than one application context item');
      applicationContext = trimUid(value);
    } else if (type === 0x20) {
      if (++contexts > MAX_PRESENTATION_CONTEXTS) return reject(`more than ${MAX_PRESENTATION_CONTEXTS} presentation contexts`);
      const id = value.length > 0 ? value.readUInt8(0) : 0;
      if (id % 2 === 0) return reject(`presentation context ID ${id} is not an odd number 1-255`);
      if (ids.has(id)) return reject(`presentation context ID ${id} proposed twice`);
      ids.add(id);
    }
    off += 4 + length;
  }
  // PS3.8 9.3.4: application-context-name-not-supported is reason 2 of source 1 (service user).
  if (applicationContext !== DICOMApplicationContext) return reject('application context name not supported', 1, 2);
  return undefined;
}

/** Command Field and Command Data Set Type of an Implicit VR LE command set (PS3.7 E.1). */
function commandInfo(command: Buffer): { field: number; hasDataSet: boolean } | undefined {
  let field: number | undefined;
  let dataSetType: number | undefined;
  for (let off = 0; off + 8 <= command.length;) {
    const group = command.readUInt16LE(off);
    const element = command.readUInt16LE(off + 2);
    const length = command.readUInt32LE(off + 4);
    if (off + 8 + length > command.length) return undefined;
    if (group === 0 && length === 2 && element === 0x0100) field = command.readUInt16LE(off + 8);
    if (group === 0 && length === 2 && element === 0x0800) dataSetType = command.readUInt16LE(off + 8);
    off += 8 + length;
  }
  if (field === undefined || dataSetType === undefined) return undefined;
  return { field, hasDataSet: dataSetType !== NO_DATA_SET };
}

export class PduGate {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private state: 'idle' | 'associated' | 'closed' = 'idle';
  // The message in progress: its command fragments, or the context its data set must arrive on.
  private command: Buffer[] = [];
  private commandBytes = 0;
  private commandContext: number | undefined;
  private dataSetContext: number | undefined;

  constructor(private readonly options: GateOptions) {}

  /** Feeds bytes from the socket; returns a verdict per complete PDU, ending with the first refusal. */
  push(chunk: Buffer): GateVerdict[] {
    if (this.state === 'closed') return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: GateVerdict[] = [];
    while (this.buffered >= 6) {
      const head = this.peek(6);
      const type = head.readUInt8(0);
      const length = head.readUInt32BE(2);
      // The bound is checked on the header alone: a lying length is refused before its bytes arrive.
      const bound = this.boundFor(type);
      if (typeof bound !== 'number') return this.close(out, bound);
      if (length > bound) return this.close(out, abort(`PDU type ${type} declares ${length} bytes, more than ${bound}`));
      if (this.buffered < 6 + length) break;
      const pdu = this.take(6 + length);
      const verdict = this.check(type, pdu.subarray(6));
      if (verdict) return this.close(out, verdict);
      out.push({ kind: 'pass', pdu });
    }
    return out;
  }

  private close(out: GateVerdict[], verdict: GateVerdict): GateVerdict[] {
    this.state = 'closed';
    this.chunks = [];
    this.buffered = 0;
    out.push(verdict);
    return out;
  }

  /** The largest body a PDU of this type may have now, or why the type is not allowed now. */
  private boundFor(type: number): number | GateVerdict {
    switch (type) {
      case PDU.ASSOCIATE_RQ:
        return this.state === 'idle' ? MAX_ASSOCIATE_RQ_BYTES : abort('A-ASSOCIATE-RQ on an open association');
      case PDU.P_DATA_TF:
        if (this.state !== 'associated') return abort('P-DATA-TF before an association');
        // PS3.8 D.1: the announced Maximum Length bounds the P-DATA-TF variable field; 6 bytes of
        // slack for peers that count the PDU header in it.
        return this.options.maxPduLength() + 6;
      case PDU.RELEASE_RQ:
      case PDU.RELEASE_RP:
      case PDU.ABORT:
        return MAX_SMALL_PDU_BYTES;
      default:
        return abort(type === PDU.ASSOCIATE_AC || type === PDU.ASSOCIATE_RJ ? `unexpected PDU type ${type} for an acceptor` : `unknown PDU type ${type}`);
    }
  }

  private check(type: number, body: Buffer): GateVerdict | undefined {
    if (type === PDU.ASSOCIATE_RQ) {
      const verdict = checkAssociateRq(body);
      if (!verdict) this.state = 'associated';
      return verdict;
    }
    if (type === PDU.P_DATA_TF) return this.checkPData(body);
    return undefined;
  }

  /** PS3.8 9.3.5 and Annex E: each PDV on an accepted context; command, then its data set on the same one. */
  private checkPData(body: Buffer): GateVerdict | undefined {
    const accepted = this.options.acceptedContexts();
    if (!accepted) return abort('P-DATA-TF before the association was accepted');
    if (body.length === 0) return abort('P-DATA-TF without a presentation data value');
    for (let off = 0; off < body.length;) {
      if (off + 6 > body.length) return abort('PDV item header runs past the PDU');
      const length = body.readUInt32BE(off);
      if (length < 2 || off + 4 + length > body.length) return abort('PDV item length does not fit the PDU');
      const context = body.readUInt8(off + 4);
      const control = body.readUInt8(off + 5);
      const data = body.subarray(off + 6, off + 4 + length);
      off += 4 + length;
      if (!accepted.has(context)) return abort(`data on presentation context ${context}, which was not accepted`);
      const verdict = (control & 0x01) !== 0 ? this.commandFragment(context, data, (control & 0x02) !== 0) : this.dataFragment(context, (control & 0x02) !== 0);
      if (verdict) return verdict;
    }
    return undefined;
  }

  private commandFragment(context: number, data: Buffer, last: boolean): GateVerdict | undefined {
    if (this.dataSetContext !== undefined) return abort('command fragment while a data set was expected');
    if (this.commandContext !== undefined && this.commandContext !== context) return abort('command fragments on different presentation contexts');
    this.commandContext = context;
    this.commandBytes += data.length;
    if (this.commandBytes > MAX_COMMAND_BYTES) return abort(`command set longer than ${MAX_COMMAND_BYTES} bytes`);
    this.command.push(data);
    if (!last) return undefined;
    const info = commandInfo(Buffer.concat(this.command));
    this.command = [];
    this.commandBytes = 0;
    this.commandContext = undefined;
    if (!info) return abort('command set without Command Field or Command Data Set Type');
    if (!info.hasDataSet) return undefined;
    // Only a C-STORE-RQ carries a data set here (the contexts we accept are Storage and Verification);
    // any other data set would be buffered whole by the library, without limit.
    if (info.field === C_ECHO_RQ) return abort('C-ECHO-RQ with a data set');
    if (info.field !== C_STORE_RQ) return abort(`command 0x${info.field.toString(16)} with a data set`);
    this.dataSetContext = context;
    return undefined;
  }

  private dataFragment(context: number, last: boolean): GateVerdict | undefined {
    if (this.dataSetContext === undefined) return abort('data set fragment without a command that announces one');
    if (context !== this.dataSetContext) return abort('command and data set on different presentation contexts');
    if (last) this.dataSetContext = undefined;
    return undefined;
  }

  /** The first `n` buffered bytes, without consuming them (copied only when they straddle chunks). */
  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    return first.length >= n ? first.subarray(0, n) : Buffer.concat(this.chunks, n);
  }

  /**
   * Consumes `n` bytes: a PDU inside one chunk is a view of it; one spread over chunks is copied once,
   * exactly its own bytes (the bytes after it stay views of their chunks, never copied again).
   */
  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    const pdu = first.length >= n ? first.subarray(0, n) : Buffer.concat(this.chunks, n);
    for (let left = n; left > 0;) {
      const chunk = this.chunks[0] as Buffer;
      if (chunk.length <= left) {
        left -= chunk.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = chunk.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return pdu;
  }
}
