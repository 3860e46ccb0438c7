// archive.indexIncoming with reports: the node's own studies become reference cases and their reports
// (here HL7 ORU over MLLP from python3-hl7's mllp_send) label them, report before or after the study,
// with provenance report-rules; an amendment relabels; an operator's CSV labels win over a report,
// whichever comes first, and a disagreeing report is noted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, type Fixture } from './fixtures/build.js';
import { testModelDir } from './helpers/model-fixture.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { requireTool, run } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import { REPORT_LABEL_SOURCE } from '../src/shared/case-store.js';
import type { CaseRecord } from '../src/shared/cases.js';
import type { Archive } from '../src/archive/index.js';

let node: TestNode;
let dir: string;
let seq = 0;

beforeAll(async () => {
  requireTool('mllp_send');
  requireTool('dcmsend');
  dir = tempDir('precedent-report-cases-');
  node = await startTestNode({
    studies: { completeAfterSeconds: 0.4 },
    model: { dir: testModelDir() },
    inference: { device: 'cpu' },
    archive: { indexIncoming: true },
    reports: { mllp: { port: 0, host: '127.0.0.1', maxMessageBytes: 1 << 20, idleTimeoutSeconds: 30, application: 'PRECEDENT', facility: 'TEST' } },
  });
});

afterAll(async () => {
  await node?.stop();
});

async function report(accession: string, impression: string, status = 'F'): Promise<void> {
  const id = `RA${++seq}`;
  const message = [
    `MSH|^~\\&|RIS|HOSP|PRECEDENT|HOSP|20240105103000||ORU^R01^ORU_R01|${id}|P|2.5.1`,
    'PID|1||RA-PAT^^^HOSP^MR||ARCHIVE^PATIENT||19500101|F',
    `OBR|1|PL${seq}|${accession}|71046^XR CHEST 2 VIEWS^CPT|||20240105100000||||||||||||||||||${status}`,
    `OBX|1|TX|^^^&IMP|1|${impression}||||||${status}`,
  ].join('\r');
  const file = join(dir, `${id}.hl7`);
  writeFileSync(file, `${message}\r`);
  const r = await run('mllp_send', ['--loose', '--file', file, '--port', String(node.mllpPort), '127.0.0.1']);
  expect(r.stdout).toMatch(/MSA\|AA\|/);
}

async function study(imageIndex: number, accessionNumber: string): Promise<Fixture> {
  const f = await buildFixture({ variant: 'dx12', syntax: 'ele', imageIndex, accessionNumber, patientID: `P-${accessionNumber}` }, join(dir, accessionNumber));
  const r = await run('dcmsend', ['-aec', node.config.dimse.aeTitle, '127.0.0.1', String(node.port), f.path]);
  expect(r.code).toBe(0);
  await waitFor(() => node.node.catalog.study(f.studyInstanceUID)?.state === 'done', 60_000);
  return f;
}

function caseOf(f: Fixture): CaseRecord | undefined {
  const cases = (node.node.archive() as Archive).cases;
  return [...cases.cases(cases.keysOf({ StudyInstanceUID: f.studyInstanceUID }), { name: 'm', version: '1' }).values()][0];
}

/** As `precedent labels load` stores a CSV row (src/commands/labels.ts). */
function csv(accession: string, labels: string[]): void {
  (node.node.archive() as Archive).cases.loadLabels(
    [{ match: { AccessionNumber: accession }, facts: { labels, age: null, sex: null, outcomes: {}, clinical: { label_source: 'csv' } } }],
    Date.now(),
  );
}

describe('report labels for archive.indexIncoming cases', () => {
  it('labels a case indexed before its report arrives, and relabels it on an amendment', async () => {
    const f = await study(21, 'ACC-RA-1');
    expect(caseOf(f)?.labels).toEqual([]);
    await report('ACC-RA-1', 'Small right pleural effusion.');
    expect(caseOf(f)).toMatchObject({
      labels: ['abnormal', 'effusion'],
      clinical: { label_source: REPORT_LABEL_SOURCE, report_status: 'final', report_source: 'hl7' },
    });
    await report('ACC-RA-1', 'No acute cardiopulmonary abnormality.', 'C');
    expect(caseOf(f)).toMatchObject({ labels: ['normal'], clinical: { report_status: 'corrected' } });
  });

  it('labels a case indexed after its report arrived', async () => {
    await report('ACC-RA-2', 'Cardiomegaly.');
    const f = await study(22, 'ACC-RA-2');
    expect(caseOf(f)).toMatchObject({ labels: ['abnormal', 'cardiomegaly'], clinical: { label_source: REPORT_LABEL_SOURCE } });
  });

  it("keeps an operator's CSV labels against a later report, and notes that the report disagrees", async () => {
    const f = await study(23, 'ACC-RA-3');
    csv('ACC-RA-3', ['normal']);
    await report('ACC-RA-3', 'Left lower lobe consolidation.');
    expect(caseOf(f)).toMatchObject({ labels: ['normal'], clinical: { label_source: 'csv', report_disagrees: 'abnormal|consolidation' } });
  });

  it("keeps an operator's CSV labels loaded before both the report and the study", async () => {
    csv('ACC-RA-4', ['COVID-19']);
    await report('ACC-RA-4', 'No acute disease.');
    const f = await study(24, 'ACC-RA-4');
    expect(caseOf(f)).toMatchObject({ labels: ['COVID-19'], clinical: { label_source: 'csv', report_disagrees: 'normal' } });
    // A CSV loaded after a report's labels replaces them: the operator has the last word.
    const g = await study(25, 'ACC-RA-5');
    await report('ACC-RA-5', 'Pneumothorax.');
    expect(caseOf(g)?.labels).toEqual(['abnormal', 'pneumothorax']);
    csv('ACC-RA-5', ['normal']);
    expect(caseOf(g)).toMatchObject({ labels: ['normal'], clinical: { label_source: 'csv' } });
  });
});
