// A STOW-RS body that trickles (one byte every 200 ms, never silent long enough for the idle timeout)
// held its request and the part being written open indefinitely (issue 12). With a minimum upload
// rate per window it is answered 408 and closed, nothing of it is kept, and the server goes on.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, type TestNode } from './helpers/node.js';
import { within } from './helpers/wait.js';
import { crDataset, newCrUids, part10 } from './helpers/raw-dataset.js';
import { stow } from './helpers/stow.js';

let node: TestNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

describe('STOW-RS upload rate', () => {
  it('answers a trickling body 408 and closes it, keeps nothing of it, and goes on serving', async () => {
    node = await startTestNode({
      dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'none' }, idleTimeoutSeconds: 1, minUploadBytesPerSecond: 1024 },
    });
    const n = node;
    const uids = newCrUids();
    const object = part10(crDataset(uids), uids.sop);
    const boundary = 'trickle';
    const start = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), object.subarray(0, 200)]);
    const socket = connect({ port: n.dicomwebPort ?? 0, host: '127.0.0.1' });
    socket.setNoDelay(true);
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /dicomweb/studies HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/related; type="application/dicom"; boundary=${boundary}\r\nContent-Length: ${start.length + object.length}\r\n\r\n`,
    );
    socket.write(start);
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(object.subarray(200 + sent, 201 + sent));
      sent++;
    }, 200);
    try {
      await within(closed, 30_000, 'the node closing a trickling upload');
    } finally {
      clearInterval(trickle);
    }
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/minUploadBytesPerSecond/);
    expect(n.logs.some((l) => l.includes('"code":"UPLOAD_TOO_SLOW"'))).toBe(true);
    expect(n.node.catalog.instanceVersions(uids.sop)).toEqual([]);
    expect(readdirSync(join(n.dataDir, 'tmp')).filter((f) => f.endsWith('.part'))).toEqual([]);

    const ok = await stow(`http://127.0.0.1:${n.dicomwebPort}/dicomweb/studies`, [{ bytes: object }]);
    expect(ok.status).toBe(200);
    expect(n.node.catalog.instanceVersions(uids.sop)).toHaveLength(1);
  });
});
