// A storage SCP over a raw TCP socket (PS3.8 9.3, PS3.7 9.3.1), for destinations no real peer
// imitates: one that announces an absurd Maximum Length, or one that acknowledges some C-STOREs and
// then goes silent (the moment a node is killed mid-export).
import { createServer, type Server, type Socket } from 'node:net';
import { parseCommand, PDU, pDataTf } from './raw-peer.js';

export interface FakeScpOptions {
  /** Maximum Length announced in the A-ASSOCIATE-AC (PS3.8 D.1). */
  maxPduLength: number;
  /** Whether to answer the n-th C-STORE (0-based, across associations); unanswered ones hang. */
  answer: (n: number) => boolean;
}

export interface FakeScp {
  port: number;
  /** SOP Instance UIDs of every C-STORE whose data set arrived, in order (duplicates included). */
  received: string[];
  /** In order: 'received UID' when a data set arrived, 'answered UID' when its Success response was sent. */
  events: string[];
  associations: number;
  close(): Promise<void>;
}

function item(type: number, body: Buffer): Buffer {
  const head = Buffer.from([type, 0, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** A-ASSOCIATE-AC accepting every proposed context with its first transfer syntax. */
function associateAc(rq: Buffer, maxPduLength: number): Buffer {
  const fixed = Buffer.from(rq.subarray(0, 68));
  const items: Buffer[] = [item(0x10, Buffer.from('1.2.840.10008.3.1.1.1', 'latin1'))];
  for (let off = 68; off + 4 <= rq.length;) {
    const type = rq.readUInt8(off);
    const len = rq.readUInt16BE(off + 2);
    if (type === 0x20) {
      const value = rq.subarray(off + 4, off + 4 + len);
      let ts = '';
      for (let s = 4; s + 4 <= value.length; s += 4 + value.readUInt16BE(s + 2)) {
        if (value.readUInt8(s) === 0x40 && !ts) ts = value.subarray(s + 4, s + 4 + value.readUInt16BE(s + 2)).toString('latin1');
      }
      items.push(item(0x21, Buffer.concat([Buffer.from([value.readUInt8(0), 0, 0, 0]), item(0x40, Buffer.from(ts, 'latin1'))])));
    }
    off += 4 + len;
  }
  const max = Buffer.alloc(4);
  max.writeUInt32BE(maxPduLength, 0);
  items.push(item(0x50, Buffer.concat([item(0x51, max), item(0x52, Buffer.from('1.2.3.4', 'latin1'))])));
  const body = Buffer.concat([fixed, ...items]);
  const head = Buffer.from([PDU.ASSOCIATE_AC, 0, 0, 0, 0, 0]);
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

function element(el: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(el, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}
const us = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);

/** C-STORE-RSP with Success (PS3.7 9.3.1.2). */
function cStoreRsp(rq: Map<number, Buffer>): Buffer {
  const body = Buffer.concat([
    element(0x0002, rq.get(0x0002) ?? Buffer.alloc(0)),
    element(0x0100, us(0x8001)),
    element(0x0120, rq.get(0x0110) ?? us(0)),
    element(0x0800, us(0x0101)),
    element(0x0900, us(0x0000)),
    element(0x1000, rq.get(0x1000) ?? Buffer.alloc(0)),
  ]);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(body.length, 0);
  return Buffer.concat([element(0x0000, gl), body]);
}

export async function startFakeScp(options: FakeScpOptions): Promise<FakeScp> {
  const sockets = new Set<Socket>();
  const state = { received: [] as string[], events: [] as string[], associations: 0, stores: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let command: Map<number, Buffer> | undefined;
    let commandBytes: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 6 && buffer.length >= 6 + buffer.readUInt32BE(2)) {
        const type = buffer.readUInt8(0);
        const body = buffer.subarray(6, 6 + buffer.readUInt32BE(2));
        buffer = buffer.subarray(6 + body.length);
        if (type === PDU.ASSOCIATE_RQ) {
          state.associations++;
          socket.write(associateAc(body, options.maxPduLength));
        } else if (type === PDU.RELEASE_RQ) {
          socket.end(Buffer.from([PDU.RELEASE_RP, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
        } else if (type === PDU.P_DATA_TF) {
          for (let off = 0; off + 6 <= body.length;) {
            const len = body.readUInt32BE(off);
            const context = body.readUInt8(off + 4);
            const control = body.readUInt8(off + 5);
            const data = body.subarray(off + 6, off + 4 + len);
            off += 4 + len;
            if (control & 1) {
              commandBytes.push(data);
              if (control & 2) {
                command = parseCommand(Buffer.concat(commandBytes));
                commandBytes = [];
              }
            } else if (control & 2 && command) {
              const uid = (command.get(0x1000) ?? Buffer.alloc(0)).toString('latin1').replace(/\0+$/, '');
              state.received.push(uid);
              state.events.push(`received ${uid}`);
              if (options.answer(state.stores++)) {
                socket.write(pDataTf([{ contextId: context, command: true, last: true, data: cStoreRsp(command) }]));
                state.events.push(`answered ${uid}`);
              }
              command = undefined;
            }
          }
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    received: state.received,
    events: state.events,
    get associations() {
      return state.associations;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
