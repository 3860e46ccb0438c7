// HL7 v2 over MLLP (HL7 MLLP release 2: <VT> message <FS><CR>): each framed ORU^R01 is parsed, its
// reports stored, and an original-mode ACK (MSA-1 AA / AE / AR) sent back on the same connection.
// Messages on one connection are handled in order, so a sender's amendment never overtakes its original.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../shared/log.js';
import { describeError, isOutOfSpace } from '../shared/errors.js';
import { buildAck, HL7_ERRORS, Hl7ParseError, parseHl7, type AckCode, type Hl7Message } from './hl7.js';
import { readOru } from './oru.js';
import type { ReportIntake } from './intake.js';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

export interface MllpOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  idleTimeoutSeconds: number;
  /** MSH-3 / MSH-4 of our acknowledgements. */
  application: string;
  facility: string;
  intake: ReportIntake;
  log: Logger;
  now?: () => number;
}

export interface MllpServer {
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** Splits a byte stream into MLLP frames; bytes outside a frame are dropped (keep-alive noise). */
export class MllpDeframer {
  private buffer: Buffer = Buffer.alloc(0);
  constructor(private readonly maxBytes: number) {}

  /** The complete messages in what has arrived so far; throws when one grows beyond maxBytes. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const start = this.buffer.indexOf(VT);
      if (start < 0) {
        this.buffer = Buffer.alloc(0);
        return out;
      }
      let end = this.buffer.indexOf(FS, start + 1);
      while (end >= 0 && end + 1 < this.buffer.length && this.buffer[end + 1] !== CR) end = this.buffer.indexOf(FS, end + 1);
      if (end < 0 || end + 1 >= this.buffer.length) {
        this.buffer = this.buffer.subarray(start);
        if (this.buffer.length > this.maxBytes + 3) throw new RangeError(`an MLLP message exceeds ${this.maxBytes} bytes`);
        return out;
      }
      out.push(this.buffer.subarray(start + 1, end));
      this.buffer = this.buffer.subarray(end + 2);
    }
  }
}

export const frame = (text: string): Buffer => Buffer.concat([Buffer.from([VT]), Buffer.from(text, 'utf8'), Buffer.from([FS, CR])]);

/** MSH-18 names the character set; ISO 8859-1 senders exist, everything else is read as UTF-8. */
function decode(bytes: Buffer): string {
  const head = bytes.subarray(0, Math.min(bytes.length, 1024)).toString('latin1');
  const msh = head.split(/\r|\n/)[0] ?? '';
  const charset = msh.split(msh[3] ?? '|')[17] ?? '';
  return /8859\/1|ISO[-_ ]?8859[-_ ]?1|LATIN1/i.test(charset) ? bytes.toString('latin1') : bytes.toString('utf8');
}

export function createMllpServer(options: MllpOptions): MllpServer {
  const { log, intake } = options;
  const now = options.now ?? Date.now;
  let controlIds = 0;
  const sockets = new Set<Socket>();

  function answer(bytes: Buffer): string {
    let message: Hl7Message | undefined;
    let code: AckCode = 'AA';
    let reason = 'report accepted';
    let error: readonly [string, string] | undefined;
    try {
      message = parseHl7(decode(bytes));
      const reading = readOru(message);
      if (!reading.ok) {
        ({ ack: code, error, reason } = reading);
      } else {
        const stored = intake.receive('hl7', reading.messageId, reading.reports);
        reason = `${stored.length} report(s) stored, ${stored.filter((r) => r.matchedStudyInstanceUID !== undefined).length} matched to a study`;
      }
    } catch (err) {
      const parse = err instanceof Hl7ParseError;
      code = parse ? 'AR' : isOutOfSpace(err) ? 'AR' : 'AE';
      error = parse ? HL7_ERRORS.segmentSequence : HL7_ERRORS.internal;
      // A full disk is transient: AR tells the sender to send again later; other faults are AE.
      reason = parse ? err.message : isOutOfSpace(err) ? 'out of storage space, send again later' : 'the report could not be stored';
      if (!parse) log.error({ err: describeError(err) }, 'HL7 report intake failed');
    }
    if (code !== 'AA') log.warn({ ack: code, reason }, 'HL7 message not accepted');
    controlIds = (controlIds + 1) % 1e9;
    return buildAck(message, code, reason, {
      application: options.application,
      facility: options.facility,
      now: new Date(now()),
      controlId: `PRE${now()}${controlIds}`,
      ...(error ? { error } : {}),
    });
  }

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeoutSeconds * 1000, () => socket.end());
    const deframer = new MllpDeframer(options.maxMessageBytes);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const message of deframer.push(chunk)) socket.write(frame(answer(message)));
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err), remote: socket.remoteAddress }, 'MLLP connection closed: message too large');
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : options.port;
          log.info({ port }, 'HL7 MLLP listener started');
          resolve(port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.end();
        server.close(() => resolve());
        setTimeout(() => sockets.forEach((s) => s.destroy()), 2000).unref();
      }),
  };
}
