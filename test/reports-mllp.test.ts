// HL7 v2 ORU^R01 over MLLP from a real sender (python3-hl7's mllp_send) into a running node: ACK codes,
// escape sequences and repetitions, matching by Accession Number and Study Instance UID, reports that
// wait for their study (sent over DIMSE with storescu), amendments, and no report text in the logs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, newUid, type Fixture } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { requireTool, run } from './helpers/tools.js';
import { MllpDeframer, parseHl7, unescapeHl7 } from '../src/reports/index.js';

const PATIENT = 'MLLPSECRET^PATIENT';
let node: TestNode;
let dir: string;
let fixture: Fixture;
let seq = 0;

function oru(options: { accession?: string; accession18?: string; study?: string; status?: string; obx: string[]; type?: string; version?: string }): string {
  const id = `MSG${String(++seq).padStart(4, '0')}`;
  const lines = [
    `MSH|^~\\&|RIS|HOSP|PRECEDENT|HOSP|20240105103000||${options.type ?? 'ORU^R01^ORU_R01'}|${id}|P|${options.version ?? '2.5.1'}`,
    `PID|1||PAT-77^^^HOSP^MR||${PATIENT}||19500101|F`,
    'ORC|RE|PL1|FL1||CM',
    `OBR|1|PL1|${options.accession ?? ''}|71046^XR CHEST 2 VIEWS^CPT|||20240105100000|||||||||||${options.accession18 ?? ''}|||||||${options.status ?? 'F'}`,
    ...(options.study ? [`ZDS|${options.study}^RIS^Application^DICOM`] : []),
    ...options.obx,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** Sends messages with mllp_send (one connection, in order) and returns the MSA segments of the ACKs. */
async function send(...messages: string[]): Promise<string[][]> {
  const file = join(dir, `batch-${++seq}.hl7`);
  writeFileSync(file, messages.join(''));
  const r = await run('mllp_send', ['--loose', '--file', file, '--port', String(node.mllpPort), '127.0.0.1']);
  expect(r.code).toBe(0);
  return r.stdout
    .split(/[\r\n\v]+/)
    .filter((l) => l.startsWith('MSA|'))
    .map((l) => l.split('|'));
}

beforeAll(async () => {
  requireTool('mllp_send');
  requireTool('storescu');
  dir = tempDir('precedent-mllp-');
  fixture = await buildFixture({ variant: 'dx12', syntax: 'ele', imageIndex: 1, accessionNumber: 'ACC-MLLP-1', patientName: PATIENT }, join(dir, 'study'));
  node = await startTestNode({
    reports: { mllp: { port: 0, host: '127.0.0.1', maxMessageBytes: 1 << 20, idleTimeoutSeconds: 30, application: 'PRECEDENT', facility: 'TEST' } },
  });
});

afterAll(async () => {
  await node?.stop();
});

describe('MLLP framing and HL7 encoding', () => {
  it('splits frames across chunks and drops bytes outside them', () => {
    const d = new MllpDeframer(1024);
    expect(d.push(Buffer.from('noise\x0bMSH|a'))).toEqual([]);
    expect(d.push(Buffer.from('b\x1c')).map(String)).toEqual([]);
    expect(d.push(Buffer.from('\r\x0bMSH|c\x1c\r')).map(String)).toEqual(['MSH|ab', 'MSH|c']);
    expect(() => new MllpDeframer(1024).push(Buffer.concat([Buffer.from([0x0b]), Buffer.alloc(2000, 0x41)]))).toThrow(/exceeds 1024/);
  });

  it('resolves escape sequences with the message own separators', () => {
    const m = parseHl7('MSH|^~\\&|A|B');
    expect(unescapeHl7('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g\\X41\\\\H\\h\\N\\', m.separators)).toBe('a|b^c&d~e\\f\ngAh');
  });
});

describe('ORU^R01 over MLLP (mllp_send)', () => {
  it('keeps a report for a study that has not arrived, and matches it when the study comes over DIMSE', async () => {
    const [msa] = await send(
      oru({
        accession: 'ACC-MLLP-1',
        obx: ['OBX|1|TX|^^^&GDT|1|Small right pleural effusion.~No pneumothorax.||||||F', 'OBX|2|TX|^^^&IMP|1|Right pleural effusion.||||||F'],
      }),
    );
    expect(msa?.slice(0, 3)).toEqual(['MSA', 'AA', `MSG${String(seq - 1).padStart(4, '0')}`]);
    expect(node.node.reports.waitingCount()).toBe(1);
    expect(node.node.reports.currentForStudy(fixture.studyInstanceUID)).toBeUndefined();

    const stored = await run('storescu', ['-aec', node.config.dimse.aeTitle, '127.0.0.1', String(node.port), fixture.path]);
    expect(stored.code).toBe(0);
    const report = node.node.reports.currentForStudy(fixture.studyInstanceUID);
    expect(report?.AccessionNumber).toBe('ACC-MLLP-1');
    expect(report?.text).toBe('FINDINGS:\nSmall right pleural effusion.\nNo pneumothorax.\nIMPRESSION:\nRight pleural effusion.');
    expect(report?.labels).toEqual({ status: 'abnormal', findings: ['effusion'], uncertain: [] });
    expect(node.node.reports.waitingCount()).toBe(0);
  });

  it('replaces a report with its amendment (OBR-25 = C), and a preliminary never replaces a final', async () => {
    const acks = await send(
      oru({ accession: 'ACC-MLLP-1', status: 'C', obx: ['OBX|1|FT|^^^&IMP|1|Corrected: no effusion.\\.br\\Normal chest.||||||C'] }),
      oru({ accession: 'ACC-MLLP-1', status: 'P', obx: ['OBX|1|TX|^^^&IMP|1|Preliminary: cardiomegaly.||||||P'] }),
    );
    expect(acks.map((a) => a[1])).toEqual(['AA', 'AA']);
    const report = node.node.reports.currentForStudy(fixture.studyInstanceUID);
    expect(report?.status).toBe('corrected');
    expect(report?.text).toBe('IMPRESSION:\nCorrected: no effusion.\nNormal chest.');
    expect(report?.labels.status).toBe('normal');
  });

  it('matches by the Study Instance UID of ZDS when the accession is unknown, and by OBR-18 over OBR-3', async () => {
    const acks = await send(
      oru({ accession: 'OTHER-FILLER', study: fixture.studyInstanceUID, obx: ['OBX|1|TX|^^^&IMP|1|Left basilar atelectasis \\T\\ scarring.||||||F'] }),
      oru({ accession: 'FILLER-2', accession18: 'ACC-LATER-2', obx: ['OBX|1|TX|^^^&IMP|1|Cardiomegaly.||||||F'] }),
    );
    expect(acks.map((a) => a[1])).toEqual(['AA', 'AA']);
    const report = node.node.reports.currentForStudy(fixture.studyInstanceUID);
    expect(report?.text).toBe('IMPRESSION:\nLeft basilar atelectasis & scarring.');
    expect(report?.labels.findings).toEqual(['atelectasis']);
    expect(node.node.reports.currentMatched().map((r) => r.AccessionNumber)).not.toContain('ACC-LATER-2');
    expect(node.node.reports.waitingCount()).toBe(1);
    const later = await buildFixture(
      { variant: 'dx12', syntax: 'ele', imageIndex: 2, accessionNumber: 'ACC-LATER-2', studyInstanceUID: newUid() },
      join(dir, 'later'),
    );
    expect((await run('storescu', ['-aec', node.config.dimse.aeTitle, '127.0.0.1', String(node.port), later.path])).code).toBe(0);
    expect(node.node.reports.currentForStudy(later.studyInstanceUID)?.labels.findings).toEqual(['cardiomegaly']);
  });

  it('rejects what it cannot take: AR for another message type or version, AE for a report without key or text', async () => {
    const acks = await send(
      oru({ accession: 'X1', type: 'ADT^A01', obx: [] }),
      oru({ accession: 'X2', version: '2.1', obx: ['OBX|1|TX|^^^&IMP|1|Normal.||||||F'] }),
      oru({ obx: ['OBX|1|TX|^^^&IMP|1|Normal.||||||F'] }),
      oru({ accession: 'X3', obx: ['OBX|1|NM|8867-4^Heart rate^LN|1|72||||||F'] }),
    );
    expect(acks.map((a) => a[1])).toEqual(['AR', 'AR', 'AE', 'AE']);
    expect(acks[2]?.[3]).toMatch(/no Accession Number/);
  });

  it('logs no report text, accession number or patient data', () => {
    const logs = node.logs.join('\n');
    expect(logs).toContain('report stored');
    for (const secret of ['MLLPSECRET', 'PAT-77', 'ACC-MLLP-1', 'ACC-LATER-2', 'effusion', 'Cardiomegaly', 'atelectasis']) expect(logs).not.toContain(secret);
  });
});
