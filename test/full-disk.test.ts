// A full data disk with the watermark off (storage.minFreeBytes: 0) on a real file system (a tmpfs
// filled to the last page): senders must be told "out of resources, retry later" (C-STORE 0xA700,
// STOW-RS 507), never the permanent-looking 0x0110/409; analyses that hit the full disk must wait and
// resume by themselves once space returns, never be failed for good.
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, type TestNode } from './helpers/node.js';
import { RawPeer } from './helpers/raw-peer.js';
import { CR_CONTEXT, CR_IMAGE_STORAGE, crDataset, newCrUids, part10 } from './helpers/raw-dataset.js';
import { items, stow, value } from './helpers/stow.js';
import { echo, waitFor } from './helpers/wait.js';
import { mountSmallDisk, type SmallDisk } from './helpers/full-disk.js';

let node: TestNode | undefined;
let disk: SmallDisk | undefined;
const peers: RawPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await node?.stop();
  node = undefined;
  disk?.unmount();
  disk = undefined;
});

async function associated(n: TestNode): Promise<RawPeer> {
  const peer = await RawPeer.connect(n.port);
  peers.push(peer);
  expect(await peer.associate({ contexts: [CR_CONTEXT] })).toMatchObject({ accepted: true });
  return peer;
}

const partFiles = (n: TestNode): string[] => readdirSync(join(n.dataDir, 'tmp')).filter((f) => f.endsWith('.part'));

describe('full disk (ENOSPC) with storage.minFreeBytes 0', () => {
  it('answers C-STORE 0xA700 and STOW-RS 507, keeps nothing partial, and stores again once space returns', async () => {
    disk = mountSmallDisk();
    node = await startTestNode(
      { storage: { minFreeBytes: 0 }, dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'none' } } },
      { dataDir: join(disk.dir, 'data') },
    );
    const peer = await associated(node);
    disk.fill();

    const uids = newCrUids();
    const refused = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: crDataset(uids) });
    expect(refused.status).toBe(0xa700);
    expect(refused.errorComment).toMatch(/no space left/);

    const web = newCrUids();
    const url = `http://127.0.0.1:${node.dicomwebPort}/dicomweb/studies`;
    const full = await stow(url, [{ bytes: part10(crDataset(web), web.sop) }]);
    expect(full.status).toBe(507);
    expect(items(full.json, '00081198').map((f) => value(f, '00081197'))).toEqual([0xa700]);

    expect(node.node.catalog.instanceCount()).toBe(0);
    expect(partFiles(node)).toEqual([]);
    expect(await echo(node)).toBe(0);

    // Space returns: the same association, the same objects, no restart.
    disk.free();
    expect((await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: crDataset(uids) })).status).toBe(0);
    expect((await stow(url, [{ bytes: part10(crDataset(web), web.sop) }])).status).toBe(200);
    expect(node.node.catalog.instanceCount()).toBe(2);
    await peer.release();
  });

  it('defers an analysis that hits the full disk without failing it, and finishes it when space returns, without a restart', async () => {
    disk = mountSmallDisk();
    const dataDir = join(disk.dir, 'data');
    let tries = 0;
    // The analysis writes a result file, as the real one does: on a full disk that throws ENOSPC.
    // The disk fills while the study is being analysed (queued and marked in the catalog already).
    const analyze = async (job: { StudyInstanceUID: string }): Promise<void> => {
      if (++tries === 1) disk?.fill();
      writeFileSync(join(dataDir, `result-${job.StudyInstanceUID}.bin`), Buffer.alloc(64 * 1024, 1));
    };
    // One attempt only: before, the first ENOSPC failed the study for good.
    node = await startTestNode({ storage: { minFreeBytes: 0 }, queue: { attempts: 1, backoffSeconds: 0.2 } }, { dataDir, analyze });
    const peer = await associated(node);
    const uids = newCrUids();
    expect((await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: crDataset(uids) })).status).toBe(0);
    await peer.release();

    const n = node;
    // Deferred and tried again (a retry may stop earlier, at the catalog write that marks it started).
    const deferred = (): number => n.logs.filter((l) => l.includes('study analysis deferred: no space left on the device')).length;
    await waitFor(() => deferred() >= 3, 20_000);
    expect(deferred()).toBeGreaterThanOrEqual(3);
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(n.node.catalog.study(uids.study)?.state).not.toBe('failed');
    expect(await n.node.queue.failed()).toEqual([]);

    disk.free();
    await waitFor(() => n.node.catalog.study(uids.study)?.state === 'done', 30_000);
    expect(n.node.catalog.study(uids.study)?.state).toBe('done');
    expect(await n.node.queue.failed()).toEqual([]);
  });
});
