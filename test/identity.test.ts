// Identity is checked on the bytes the sender wrote (PS3.5 9.1), before any parser can rewrite it:
// dcmjs drops characters outside [0-9.] and keeps the first of several values, so two patients'
// studies `1.2.840.99\77.1` and `1.2.840.99\88.2` used to be filed as one study `1.2.840.99`. Each
// case goes through the real edges (raw-socket C-STORE, STOW-RS over HTTP) and checks that nothing
// was filed and that real peers are still served.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from './helpers/node.js';
import { RawPeer } from './helpers/raw-peer.js';
import { CR_CONTEXT, CR_IMAGE_STORAGE, crDataset, element, newCrUids, part10, ui, uid } from './helpers/raw-dataset.js';
import { items, stow, value } from './helpers/stow.js';
import { echo } from './helpers/wait.js';

let node: TestNode | undefined;
const peers: RawPeer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await node?.stop();
  node = undefined;
});

async function associated(n: TestNode): Promise<RawPeer> {
  const peer = await RawPeer.connect(n.port);
  peers.push(peer);
  expect(await peer.associate({ contexts: [CR_CONTEXT] })).toMatchObject({ accepted: true });
  return peer;
}

const isCannotUnderstand = (status: number): boolean => status >= 0xc000 && status <= 0xcfff;

describe('UIDs are validated as sent, never rewritten', () => {
  it('refuses two studies whose multi-valued Study Instance UIDs dcmjs would merge, and files neither', async () => {
    node = await startTestNode();
    const peer = await associated(node);
    const answers = [];
    for (const study of ['1.2.840.99\\77.1', '1.2.840.99\\88.2']) {
      const uids = { ...newCrUids(), study };
      answers.push(await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset: crDataset(uids) }));
    }
    for (const a of answers) {
      expect(isCannotUnderstand(a.status), `status 0x${a.status.toString(16)}`).toBe(true);
      expect(a.errorComment).toMatch(/Study Instance UID is not a valid UID/);
    }
    expect(node.node.catalog.study('1.2.840.99')).toBeUndefined();
    expect(node.node.catalog.instanceCount()).toBe(0);
    // The association is still usable, and so is the node.
    const good = newCrUids();
    expect((await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: good.sop, dataset: crDataset(good) })).status).toBe(0);
    await peer.release();
    expect(await echo(node)).toBe(0);
  });

  it('refuses a SOP Instance UID that dcmjs would shorten to a valid one (${jndi:...} -> 127.0.0.1)', async () => {
    node = await startTestNode();
    const peer = await associated(node);
    const sop = '${jndi:ldap://127.0.0.1/x}';
    const uids = { ...newCrUids(), sop };
    const r = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: sop, dataset: crDataset(uids) });
    expect(isCannotUnderstand(r.status), `status 0x${r.status.toString(16)}`).toBe(true);
    expect(r.errorComment).toMatch(/SOP Instance UID is not a valid UID/);
    expect(node.node.catalog.instanceVersions('127.0.0.1')).toHaveLength(0);
    expect(node.node.catalog.study(uids.study)).toBeUndefined();
    expect(await echo(node)).toBe(0);
  });

  it('refuses leading zeros, over-long UIDs, and a Series Instance UID sent twice', async () => {
    node = await startTestNode();
    const peer = await associated(node);
    const cases = [
      { uids: { ...newCrUids(), series: '1.2.03.4' }, name: 'Series' },
      { uids: { ...newCrUids(), study: `1.2.${'9'.repeat(62)}` }, name: 'Study' },
      // Two top-level copies: a parser keeps one, so which series the image belongs to is unknowable.
      { uids: newCrUids(), name: 'Series', extra: element(0x0020, 0x000e, 'UI', ui(uid())) },
    ];
    for (const c of cases) {
      const r = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: c.uids.sop, dataset: crDataset(c.uids, c.extra) });
      expect(isCannotUnderstand(r.status), `${c.name}: status 0x${r.status.toString(16)}`).toBe(true);
      expect(r.errorComment).toMatch(new RegExp(`${c.name} Instance UID is not a valid UID`));
      expect(node.node.catalog.instanceVersions(c.uids.sop)).toHaveLength(0);
    }
    expect(node.node.catalog.instanceCount()).toBe(0);
    expect(await echo(node)).toBe(0);
  });

  it('accepts a UID padded with a trailing space and files it under the UID itself', async () => {
    node = await startTestNode();
    const peer = await associated(node);
    const uids = newCrUids();
    // An even-length value padded with a space instead of NUL: a harmless, common encoder mistake.
    const study = uids.study.length % 2 === 0 ? `${uids.study}0` : uids.study;
    const dataset = crDataset({ ...uids, study: `${study} ` });
    const r = await peer.cStore(1, { sopClassUid: CR_IMAGE_STORAGE, sopInstanceUid: uids.sop, dataset });
    expect(r.status).toBe(0);
    expect(node.node.catalog.instanceVersions(uids.sop)).toEqual([expect.objectContaining({ StudyInstanceUID: study })]);
  });

  it('answers STOW-RS 409 with a failure reason for each part with an invalid UID, and stores the valid part of a mixed request', async () => {
    node = await startTestNode({ dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'none' } } });
    const url = `http://127.0.0.1:${node.dicomwebPort}/dicomweb/studies`;
    const bad = ['1.2.840.99\\77.1', '1.2.840.99\\88.2'].map((study) => {
      const uids = { ...newCrUids(), study };
      return { uids, bytes: part10(crDataset(uids), uids.sop) };
    });
    const refused = await stow(
      url,
      bad.map((b) => ({ bytes: b.bytes })),
    );
    expect(refused.status).toBe(409);
    const failed = items(refused.json, '00081198');
    expect(failed.map((f) => value(f, '00081155'))).toEqual(bad.map((b) => b.uids.sop));
    for (const f of failed) expect(value(f, '00081197')).toBe(0xc000);
    expect(node.node.catalog.study('1.2.840.99')).toBeUndefined();

    const good = newCrUids();
    const mixed = await stow(url, [{ bytes: part10(crDataset(good), good.sop) }, { bytes: bad[0]?.bytes ?? Buffer.alloc(0) }]);
    expect(mixed.status).toBe(202);
    expect(items(mixed.json, '00081199').map((s) => value(s, '00081155'))).toEqual([good.sop]);
    expect(node.node.catalog.instanceCount()).toBe(1);
    expect(await echo(node)).toBe(0);
  });
});
