// kill -9 of a real `precedent serve` in the middle of a C-STORE export (issue 12: 221 of 9,000
// objects were delivered twice, because a pass recorded its results only at its end). The outbox
// holds 40 results for a raw-socket SCP that answers a set number of C-STOREs and then holds the next
// one, the moment the node is killed; restarted, the node must send only what was not acknowledged.
// The SCP logs every data set received and every Success answered, so a re-send after an
// acknowledgement is counted, not guessed.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/node.js';
import { waitFor, within } from './helpers/wait.js';
import { startFakeScp, type FakeScp } from './helpers/fake-scp.js';
import { crDataset, newCrUids, part10 } from './helpers/raw-dataset.js';
import { startServeChild, type ServeChild } from './helpers/serve-child.js';
import { openExportOutbox } from '../src/store/index.js';

const COUNT = 40;
const children: ServeChild[] = [];
let scp: FakeScp | undefined;

beforeAll(() => {
  if (!existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url)))) throw new Error('dist/ is missing: run `npm run build` first');
});
afterEach(async () => {
  for (const c of children.splice(0)) await c.stop();
  await scp?.close();
});

function exportYaml(port: number): string {
  return `export:\n  destinations:\n    - name: pacs\n      aeTitle: PACS\n      host: 127.0.0.1\n      port: ${port}\n  checkIntervalSeconds: 0.2\n  backoffSeconds: 0.1\n  maxBackoffSeconds: 0.2\n  timeoutSeconds: 60\n`;
}

const answered = (s: FakeScp): string[] => s.events.filter((e) => e.startsWith('answered ')).map((e) => e.slice(9));

describe('kill -9 during a C-STORE export', () => {
  it('re-sends none of the acknowledged objects after two kills mid-batch, and delivers each object once', async () => {
    const dataDir = tempDir('precedent-export-kill-');
    const uids = Array.from({ length: COUNT }, newCrUids);
    // The outbox as analyses leave it: results queued for the destination, before the node starts.
    const outbox = openExportOutbox(join(dataDir, 'catalog.sqlite'));
    uids.forEach((u, i) => {
      const path = join(dataDir, `result-${i}.dcm`);
      writeFileSync(path, part10(crDataset(u), u.sop));
      outbox.add({ SOPInstanceUID: u.sop, StudyInstanceUID: u.study, path }, ['pacs'], Date.now());
    });
    outbox.close();

    let limit = 15;
    const s = await startFakeScp({ maxPduLength: 16384, answer: () => answered(s).length < limit });
    scp = s;
    for (const next of [28, Infinity]) {
      const node = await startServeChild({ dataDir, extraYaml: exportYaml(s.port) });
      children.push(node);
      // Held: `limit` acknowledged and the next one received, unanswered. Now the kill.
      await waitFor(() => answered(s).length === limit && (s.events.at(-1) ?? '').startsWith('received '), 60_000);
      expect(answered(s)).toHaveLength(limit);
      expect(s.events.at(-1)).toMatch(/^received /);
      const exited = new Promise((resolve) => node.child.once('exit', resolve));
      node.child.kill('SIGKILL');
      await within(exited, 10_000, 'exit after kill -9');
      console.log(`killed with ${answered(s).length} acknowledged, ${s.received.length} received`);
      limit = next;
    }
    const last = await startServeChild({ dataDir, extraYaml: exportYaml(s.port) });
    children.push(last);
    await waitFor(() => answered(s).length === COUNT, 60_000);

    // Each object acknowledged exactly once, and never received again after its acknowledgement.
    expect([...answered(s)].sort()).toEqual(uids.map((u) => u.sop).sort());
    const acknowledged = new Set<string>();
    const resent: string[] = [];
    for (const e of s.events) {
      const [what, uid] = e.split(' ') as [string, string];
      if (what === 'answered') acknowledged.add(uid);
      else if (acknowledged.has(uid)) resent.push(uid);
    }
    expect(resent).toEqual([]);
    // Only the two held (never acknowledged) objects were received twice.
    expect(s.received).toHaveLength(COUNT + 2);
    await last.stop();
    const after = openExportOutbox(join(dataDir, 'catalog.sqlite'));
    expect(after.list({ state: 'sent' })).toHaveLength(COUNT);
    after.close();
  }, 180_000);
});
