// A STOW-RS destination over Node's http server, for what a real PACS does under load: reading the
// body slowly (bytesPerSecond), or storing only the first part of each request (answering 202 with
// the others in the Failed SOP Sequence). Records every SOP Instance UID it receives and stores.
import { createServer, type Server } from 'node:http';
import { splitMultipart } from './stow.js';

export interface StowReceiver {
  url: string;
  /** One entry per request: the SOP Instance UIDs of its parts, in order. */
  requests: string[][];
  /** SOP Instance UIDs stored, in order (an object stored twice appears twice). */
  stored: string[];
  close(): Promise<void>;
}

/** MediaStorageSOPInstanceUID (0002,0003) from a part's File Meta (Explicit VR LE, 2-byte length). */
function sopInstanceUid(part: Buffer): string {
  const at = part.indexOf(Buffer.from([0x02, 0x00, 0x03, 0x00, 0x55, 0x49]));
  if (at < 0) return '';
  return part.toString('latin1', at + 8, at + 8 + part.readUInt16LE(at + 6)).replace(/\0+$/, '');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startStowReceiver(opts: { bytesPerSecond?: number; firstPartOnly?: boolean }): Promise<StowReceiver> {
  const state: { requests: string[][]; stored: string[] } = { requests: [], stored: [] };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        if (opts.bytesPerSecond) await sleep((chunk.length / opts.bytesPerSecond) * 1000);
      }
      const uids = splitMultipart(Buffer.concat(chunks), req.headers['content-type'] ?? '').map((p) => sopInstanceUid(p.bytes));
      state.requests.push(uids);
      const kept = opts.firstPartOnly ? uids.slice(0, 1) : uids;
      state.stored.push(...kept);
      const failed = uids.filter((u) => !kept.includes(u));
      const item = (uid: string, extra: Record<string, unknown>) => ({ '00081155': { vr: 'UI', Value: [uid] }, ...extra });
      const body = {
        '00081199': { vr: 'SQ', Value: kept.map((u) => item(u, {})) },
        ...(failed.length ? { '00081198': { vr: 'SQ', Value: failed.map((u) => item(u, { '00081197': { vr: 'US', Value: [0xa700] } })) } } : {}),
      };
      res.writeHead(failed.length ? 202 : 200, { 'Content-Type': 'application/dicom+json' });
      res.end(JSON.stringify(body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/dicomweb`,
    requests: state.requests,
    stored: state.stored,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
