// Command sets encoded and decoded directly. dcmjs-dimse writes every command through dcmjs's
// general data set writer (about 0.5 ms of the event loop per response) and reads every incoming
// one through its general parser and naturalizer (about 0.3 ms per C-STORE-RQ, measured with
// --cpu-prof while receiving 200 objects). A command set is always Implicit VR Little Endian group
// 0000 (PS3.7 6.3.1) with a few elements of known VR, so the bytes are simple to write and to read;
// anything unusual falls back to the library.
import dcmjsDimse from 'dcmjs-dimse';
import { TransferSyntax } from '../dicom/uids.js';

const IMPLICIT_VR_LITTLE_ENDIAN: string = TransferSyntax.ImplicitVRLittleEndian;

type Vr = 'US' | 'UI' | 'LO';

/** Command elements by the keyword dcmjs-dimse names them with: element number and VR (PS3.7 E.1). */
const ELEMENTS: Readonly<Record<string, readonly [number, Vr]>> = {
  AffectedSOPClassUID: [0x0002, 'UI'],
  CommandField: [0x0100, 'US'],
  MessageIDBeingRespondedTo: [0x0120, 'US'],
  CommandDataSetType: [0x0800, 'US'],
  Status: [0x0900, 'US'],
  ErrorComment: [0x0902, 'LO'],
  AffectedSOPInstanceUID: [0x1000, 'UI'],
};

function element(number: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0x0000, 0);
  head.writeUInt16LE(number, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

/** A text value padded to even length: UIDs with NUL, other strings with a space (PS3.5 6.2). */
function text(value: string, vr: Vr): Buffer | undefined {
  // Outside ASCII the character set question is the library's to answer, not ours.
  if (!/^[\x20-\x7e]*$/.test(value)) return undefined;
  const padded = value.length % 2 === 0 ? value : value + (vr === 'UI' ? '\0' : ' ');
  return Buffer.from(padded, 'latin1');
}

/**
 * The command set as Implicit VR Little Endian bytes with its Command Group Length, the same bytes
 * dcmjs-dimse would write; undefined when an element is one this encoder does not know.
 */
export function encodeCommandSet(elements: Readonly<Record<string, unknown>>): Buffer | undefined {
  const encoded: Array<[number, Buffer]> = [];
  for (const [name, value] of Object.entries(elements)) {
    if (value === undefined || value === null) continue;
    const known = ELEMENTS[name];
    if (!known) return undefined;
    const [number, vr] = known;
    let bytes: Buffer | undefined;
    if (vr === 'US') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) return undefined;
      bytes = Buffer.alloc(2);
      bytes.writeUInt16LE(value, 0);
    } else {
      if (typeof value !== 'string') return undefined;
      bytes = text(value, vr);
    }
    if (!bytes) return undefined;
    encoded.push([number, element(number, bytes)]);
  }
  encoded.sort((a, b) => a[0] - b[0]);
  const body = Buffer.concat(encoded.map(([, bytes]) => bytes));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length, 0);
  return Buffer.concat([element(0x0000, length), body]);
}

type Response = dcmjsDimse.responses.CStoreResponse | dcmjsDimse.responses.CEchoResponse;

/** Makes `response` encode its command set with encodeCommandSet (falling back to the library's writer). */
export function withDirectCommandEncoding<T extends Response>(response: T): T {
  const dataset = response.getCommandDataset() as unknown as {
    getElements(): Record<string, unknown>;
    getDenaturalizedCommandDataset(...args: unknown[]): Buffer;
  };
  const library = dataset.getDenaturalizedCommandDataset.bind(dataset);
  dataset.getDenaturalizedCommandDataset = (...args: unknown[]) => encodeCommandSet(dataset.getElements()) ?? library(...args);
  return response;
}

/** Command elements a peer sends us (requests to the SCP, responses to the export SCU): keyword and VR (PS3.7 E.1). */
const INCOMING: ReadonlyMap<number, readonly [string, 'US' | 'UL' | 'UI' | 'AE' | 'LO']> = new Map([
  [0x0000, ['CommandGroupLength', 'UL']],
  [0x0002, ['AffectedSOPClassUID', 'UI']],
  [0x0003, ['RequestedSOPClassUID', 'UI']],
  [0x0100, ['CommandField', 'US']],
  [0x0110, ['MessageID', 'US']],
  [0x0120, ['MessageIDBeingRespondedTo', 'US']],
  [0x0600, ['MoveDestination', 'AE']],
  [0x0700, ['Priority', 'US']],
  [0x0800, ['CommandDataSetType', 'US']],
  [0x0900, ['Status', 'US']],
  [0x0902, ['ErrorComment', 'LO']],
  [0x0903, ['ErrorID', 'US']],
  [0x1000, ['AffectedSOPInstanceUID', 'UI']],
  [0x1001, ['RequestedSOPInstanceUID', 'UI']],
  [0x1020, ['NumberOfRemainingSuboperations', 'US']],
  [0x1021, ['NumberOfCompletedSuboperations', 'US']],
  [0x1022, ['NumberOfFailedSuboperations', 'US']],
  [0x1023, ['NumberOfWarningSuboperations', 'US']],
  [0x1030, ['MoveOriginatorApplicationEntityTitle', 'AE']],
  [0x1031, ['MoveOriginatorMessageID', 'US']],
] as const);

/**
 * The naturalized elements of an Implicit VR Little Endian command set, as dcmjs-dimse's parser
 * would give them; undefined for anything this reader leaves to the library: another group, an
 * unknown element, an empty or oddly sized value, text outside printable ASCII, a UID with anything
 * but digits and dots (dcmjs rewrites those).
 */
export function decodeCommandSet(bytes: Buffer): Record<string, unknown> | undefined {
  // dcmjs's naturalized form carries a map of VRs it could not infer: none for a command set.
  const out: Record<string, unknown> = { _vrMap: {} };
  for (let off = 0; off < bytes.length;) {
    if (off + 8 > bytes.length) return undefined;
    if (bytes.readUInt16LE(off) !== 0x0000) return undefined;
    const known = INCOMING.get(bytes.readUInt16LE(off + 2));
    const length = bytes.readUInt32LE(off + 4);
    const start = off + 8;
    off = start + length;
    if (!known || length === 0 || off > bytes.length) return undefined;
    const [keyword, vr] = known;
    if (keyword in out) return undefined;
    if (vr === 'US' || vr === 'UL') {
      if (length !== (vr === 'US' ? 2 : 4)) return undefined;
      out[keyword] = vr === 'US' ? bytes.readUInt16LE(start) : bytes.readUInt32LE(start);
      continue;
    }
    const raw = bytes.toString('latin1', start, off);
    if (vr === 'UI') {
      const uid = raw.replace(/\0$/, '');
      if (!/^[0-9][0-9.]*$/.test(uid)) return undefined;
      out[keyword] = uid;
    } else {
      // AE and LO: printable ASCII without a backslash (a second value), leading and trailing spaces dropped.
      if (!/^[\x20-\x5b\x5d-\x7e]*$/.test(raw)) return undefined;
      const value = raw.trim();
      if (value === '') return undefined;
      out[keyword] = value;
    }
  }
  return out;
}

type DatasetInternals = { _fromElementsBuffer(buffer: Buffer, transferSyntaxUid: string, options: unknown): unknown };
let decodingInstalled = false;

/**
 * Makes dcmjs-dimse read incoming command sets with decodeCommandSet (data sets and anything it does
 * not take still go through the library). Installed once per process, by the DIMSE edges.
 */
export function installDirectCommandDecoding(): void {
  if (decodingInstalled) return;
  decodingInstalled = true;
  const proto = dcmjsDimse.Dataset.prototype as unknown as DatasetInternals;
  const library = proto._fromElementsBuffer;
  proto._fromElementsBuffer = function (this: DatasetInternals, buffer, transferSyntaxUid, options) {
    const direct = transferSyntaxUid === IMPLICIT_VR_LITTLE_ENDIAN ? decodeCommandSet(buffer) : undefined;
    return direct ?? library.call(this, buffer, transferSyntaxUid, options);
  };
}
