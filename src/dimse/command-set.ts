// The command set of the responses this SCP sends (C-STORE-RSP, C-ECHO-RSP), encoded directly.
// dcmjs-dimse encodes every command through dcmjs's general data set writer: about 0.5 ms of the
// event loop per response, the largest single cost left on an object's path once it is on disk.
// A command set is always Implicit VR Little Endian group 0000 (PS3.7 6.3.1), and ours hold only the
// few elements below, so the bytes are simple to write; anything else falls back to the library.
import type dcmjsDimse from 'dcmjs-dimse';

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
