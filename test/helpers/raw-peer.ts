// A minimal DICOM Upper Layer requestor over a raw TCP socket, written from PS3.8 section 9 (PDU
// structure) and Annex E (message control header), with the C-STORE command set of PS3.7 9.3.1. It
// exists so tests can send what a well-behaved library never would: garbage data sets, bogus PDUs,
// associations that die halfway through an object, fragments interleaved at will.
import { connect, type Socket } from 'node:net';

/** PS3.8 9.3.1: PDU types. */
export const PDU = { ASSOCIATE_RQ: 0x01, ASSOCIATE_AC: 0x02, ASSOCIATE_RJ: 0x03, P_DATA_TF: 0x04, RELEASE_RQ: 0x05, RELEASE_RP: 0x06, ABORT: 0x07 } as const;

export const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1'; // PS3.7 A.2.1
export const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
export const RAW_PEER_IMPLEMENTATION_UID = '2.25.80230735123195349741185036437212871234';

export interface RawPdu {
  type: number;
  /** The PDU body, after the 6-byte header (type, reserved, 4-byte big-endian length). */
  body: Buffer;
}

export interface ProposedContext {
  id: number; // odd, 1-255 (PS3.8 9.3.2.2)
  abstractSyntax: string;
  transferSyntaxes: string[];
}

export interface AcceptedContext {
  id: number;
  /** 0 acceptance, 1 user-rejection, 2 no-reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported (PS3.8 9.3.3.2). */
  result: number;
  transferSyntax: string;
}

export type AssociateResult =
  { accepted: true; contexts: AcceptedContext[]; maxPduLength: number } | { accepted: false; result: number; source: number; reason: number };

/** A presentation data value: its context, the two bits of its message control header, its bytes. */
export interface Pdv {
  contextId: number;
  command: boolean;
  last: boolean;
  data: Buffer;
}

/** One element of a command set, Implicit VR Little Endian (PS3.5 7.1.3): tag, 4-byte length, value. */
function implicitElement(element: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0x0000, 0);
  head.writeUInt16LE(element, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

/** UI values are padded to even length with NUL, other strings with space (PS3.5 6.2). */
function evenString(value: string, pad: number): Buffer {
  const b = Buffer.from(value, 'latin1');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([pad])]);
}

const us = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);

/** A C-STORE-RQ command set (PS3.7 9.3.1.1), group length (0000,0000) first (PS3.7 6.3.1). */
export function cStoreRq(opts: { sopClassUid: string; sopInstanceUid: string; messageId: number; priority?: number }): Buffer {
  const body = Buffer.concat([
    implicitElement(0x0002, evenString(opts.sopClassUid, 0)), // Affected SOP Class UID
    implicitElement(0x0100, us(0x0001)), // Command Field: C-STORE-RQ
    implicitElement(0x0110, us(opts.messageId)), // Message ID
    implicitElement(0x0700, us(opts.priority ?? 0)), // Priority: MEDIUM
    implicitElement(0x0800, us(0x0000)), // Command Data Set Type: a data set follows
    implicitElement(0x1000, evenString(opts.sopInstanceUid, 0)), // Affected SOP Instance UID
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([implicitElement(0x0000, groupLength), body]);
}

/** Parses an Implicit VR LE command set into element number -> value (group 0000 only). */
export function parseCommand(bytes: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = 0; off + 8 <= bytes.length;) {
    const element = bytes.readUInt16LE(off + 2);
    const length = bytes.readUInt32LE(off + 4);
    out.set(element, bytes.subarray(off + 8, off + 8 + length));
    off += 8 + length;
  }
  return out;
}

export interface DimseResponse {
  commandField: number;
  messageIdBeingRespondedTo: number;
  status: number;
  errorComment: string;
  affectedSopInstanceUid: string;
}

/** Reads a response command set: Command Field, Message ID Being Responded To, Status, Error Comment (PS3.7 9.3.1.2, C.4). */
export function decodeResponse(bytes: Buffer): DimseResponse {
  const cmd = parseCommand(bytes);
  const u16 = (el: number): number => (cmd.get(el)?.length === 2 ? (cmd.get(el) as Buffer).readUInt16LE(0) : -1);
  const str = (el: number): string => (cmd.get(el)?.toString('latin1') ?? '').replace(/[\0 ]+$/, '');
  return {
    commandField: u16(0x0100),
    messageIdBeingRespondedTo: u16(0x0120),
    status: u16(0x0900),
    errorComment: str(0x0902),
    affectedSopInstanceUid: str(0x1000),
  };
}

export function pdu(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** A variable item: type, reserved, 2-byte big-endian length (PS3.8 9.3.2.1-9.3.2.3). */
function item(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

function aeTitle(title: string): Buffer {
  return Buffer.from(title.padEnd(16, ' ').slice(0, 16), 'latin1');
}

/** A-ASSOCIATE-RQ (PS3.8 9.3.2). */
export function associateRq(opts: { calledAE: string; callingAE: string; contexts: ProposedContext[]; maxPduLength?: number }): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(0x0001, 0); // protocol version
  aeTitle(opts.calledAE).copy(fixed, 4);
  aeTitle(opts.callingAE).copy(fixed, 20); // 32 reserved bytes follow
  const contexts = opts.contexts.map((c) => {
    const head = Buffer.from([c.id, 0, 0, 0]);
    const subs = [item(0x30, Buffer.from(c.abstractSyntax, 'latin1')), ...c.transferSyntaxes.map((ts) => item(0x40, Buffer.from(ts, 'latin1')))];
    return item(0x20, Buffer.concat([head, ...subs])); // PS3.8 9.3.2.2
  });
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(opts.maxPduLength ?? 65536, 0);
  const userInfo = item(0x50, Buffer.concat([item(0x51, maxLength), item(0x52, Buffer.from(RAW_PEER_IMPLEMENTATION_UID, 'latin1'))])); // PS3.8 9.3.2.3 and D.1; PS3.7 D.3.3.2
  return pdu(PDU.ASSOCIATE_RQ, Buffer.concat([fixed, item(0x10, Buffer.from(APPLICATION_CONTEXT, 'latin1')), ...contexts, userInfo]));
}

/** Parses the items of an A-ASSOCIATE-AC (PS3.8 9.3.3): presentation context results and max PDU length. */
function parseAssociateAc(body: Buffer): AssociateResult {
  const contexts: AcceptedContext[] = [];
  let maxPduLength = 0;
  for (let off = 68; off + 4 <= body.length;) {
    const type = body.readUInt8(off);
    const len = body.readUInt16BE(off + 2);
    const value = body.subarray(off + 4, off + 4 + len);
    if (type === 0x21) {
      // PS3.8 9.3.3.2: id, reserved, result/reason, reserved, then one transfer syntax sub-item.
      const tsLen = value.length >= 8 ? value.readUInt16BE(6) : 0;
      contexts.push({
        id: value.readUInt8(0),
        result: value.readUInt8(2),
        transferSyntax: value
          .subarray(8, 8 + tsLen)
          .toString('latin1')
          .replace(/\0+$/, ''),
      });
    } else if (type === 0x50) {
      for (let s = 0; s + 4 <= value.length; s += 4 + value.readUInt16BE(s + 2)) {
        if (value.readUInt8(s) === 0x51) maxPduLength = value.readUInt32BE(s + 4);
      }
    }
    off += 4 + len;
  }
  return { accepted: true, contexts, maxPduLength };
}

/** P-DATA-TF (PS3.8 9.3.5) holding PDVs; the message control header is PS3.8 E.2 (bit 0 command, bit 1 last). */
export function pDataTf(pdvs: Pdv[]): Buffer {
  const items = pdvs.map((p) => {
    const head = Buffer.alloc(6);
    head.writeUInt32BE(p.data.length + 2, 0);
    head.writeUInt8(p.contextId, 4);
    head.writeUInt8((p.command ? 0x01 : 0x00) | (p.last ? 0x02 : 0x00), 5);
    return Buffer.concat([head, p.data]);
  });
  return pdu(PDU.P_DATA_TF, Buffer.concat(items));
}

function parsePdvs(body: Buffer): Pdv[] {
  const out: Pdv[] = [];
  for (let off = 0; off + 6 <= body.length;) {
    const len = body.readUInt32BE(off);
    const mch = body.readUInt8(off + 5);
    out.push({ contextId: body.readUInt8(off + 4), command: (mch & 1) !== 0, last: (mch & 2) !== 0, data: body.subarray(off + 6, off + 4 + len) });
    off += 4 + len;
  }
  return out;
}

export class RawPeer {
  private buffer = Buffer.alloc(0);
  private readonly pdus: RawPdu[] = [];
  private waiter: (() => void) | undefined;
  private messageId = 0;
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      // PS3.8 9.3.1: every PDU starts with type, reserved, and a 4-byte big-endian length.
      while (this.buffer.length >= 6 && this.buffer.length >= 6 + this.buffer.readUInt32BE(2)) {
        const len = this.buffer.readUInt32BE(2);
        this.pdus.push({ type: this.buffer.readUInt8(0), body: this.buffer.subarray(6, 6 + len) });
        this.buffer = this.buffer.subarray(6 + len);
      }
      this.wake();
    });
    socket.on('error', () => undefined); // a reset by the peer is an outcome tests assert on, via `closed`
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      });
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** The next PDU from the node; rejects on timeout or when the connection closes first. */
  async nextPdu(timeoutMs = 10_000): Promise<RawPdu> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const next = this.pdus.shift();
      if (next) return next;
      if (this.isClosed) throw new Error('connection closed before a PDU arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no PDU within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  async associate(opts: { calledAE?: string; callingAE?: string; contexts: ProposedContext[]; maxPduLength?: number }): Promise<AssociateResult> {
    await this.send(
      associateRq({ calledAE: opts.calledAE ?? 'PRECEDENT', callingAE: opts.callingAE ?? 'RAWPEER', contexts: opts.contexts, maxPduLength: opts.maxPduLength }),
    );
    const reply = await this.nextPdu();
    if (reply.type === PDU.ASSOCIATE_AC) return parseAssociateAc(reply.body);
    if (reply.type === PDU.ASSOCIATE_RJ) {
      // PS3.8 9.3.4: reserved, result, source, reason/diag.
      return { accepted: false, result: reply.body.readUInt8(1), source: reply.body.readUInt8(2), reason: reply.body.readUInt8(3) };
    }
    throw new Error(`unexpected PDU type 0x${reply.type.toString(16)} in reply to A-ASSOCIATE-RQ`);
  }

  /** Sends a command set as one last-fragment command PDV. */
  sendCommand(contextId: number, command: Buffer): Promise<void> {
    return this.send(pDataTf([{ contextId, command: true, last: true, data: command }]));
  }

  /** Sends data set bytes in PDVs of at most `fragment` bytes; the last one is flagged last unless `last` is false. */
  async sendDataset(contextId: number, data: Buffer, opts: { fragment?: number; last?: boolean } = {}): Promise<void> {
    const fragment = opts.fragment ?? 16_384;
    for (let off = 0; off < data.length || off === 0; off += fragment) {
      const end = Math.min(off + fragment, data.length);
      await this.send(pDataTf([{ contextId, command: false, last: end === data.length && opts.last !== false, data: data.subarray(off, end) }]));
      if (end === data.length) break;
    }
  }

  /** Reads P-DATA-TF PDUs until a command's last fragment arrives, and decodes it. */
  async readResponse(timeoutMs = 10_000): Promise<DimseResponse> {
    const parts: Buffer[] = [];
    for (;;) {
      const p = await this.nextPdu(timeoutMs);
      if (p.type === PDU.ABORT) throw new Error(`A-ABORT received (source ${p.body.readUInt8(2)}, reason ${p.body.readUInt8(3)})`); // PS3.8 9.3.8
      if (p.type !== PDU.P_DATA_TF) throw new Error(`unexpected PDU type 0x${p.type.toString(16)} while awaiting a response`);
      for (const pdv of parsePdvs(p.body)) {
        if (!pdv.command) continue;
        parts.push(pdv.data);
        if (pdv.last) return decodeResponse(Buffer.concat(parts));
      }
    }
  }

  /** A whole C-STORE: command, data set, response. */
  async cStore(
    contextId: number,
    opts: { sopClassUid: string; sopInstanceUid: string; dataset: Buffer; fragment?: number; timeoutMs?: number },
  ): Promise<DimseResponse> {
    const messageId = (this.messageId = (this.messageId + 1) & 0xffff);
    await this.sendCommand(contextId, cStoreRq({ sopClassUid: opts.sopClassUid, sopInstanceUid: opts.sopInstanceUid, messageId }));
    await this.sendDataset(contextId, opts.dataset, { fragment: opts.fragment });
    return this.readResponse(opts.timeoutMs);
  }

  /** A-RELEASE-RQ (PS3.8 9.3.6), expecting A-RELEASE-RP (9.3.7); then the node closes the connection. */
  async release(): Promise<void> {
    await this.send(pdu(PDU.RELEASE_RQ, Buffer.alloc(4)));
    const reply = await this.nextPdu();
    if (reply.type !== PDU.RELEASE_RP) throw new Error(`expected A-RELEASE-RP, got PDU type 0x${reply.type.toString(16)}`);
    this.socket.end();
  }

  /** A-ABORT (PS3.8 9.3.8) from the service user, then closes. */
  async abort(): Promise<void> {
    await this.send(pdu(PDU.ABORT, Buffer.from([0, 0, 0, 0])));
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
