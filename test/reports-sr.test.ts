// Radiology reports as DICOM SR (Basic Text, Enhanced, Comprehensive) from real peers: written by
// dcmtk's dump2dcm, sent with dcmsend over DIMSE and with fetch over STOW-RS. The report text comes
// from the content tree, the report is filed under its study, labelled, amended by a later SR and not
// by an older one; SRs that are results (a device as observer, Precedent's own) are not read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, newUid } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { requireTool, run } from './helpers/tools.js';
import { stow } from './helpers/stow.js';
import { SR_CLASS, writeTextSr, type TextSrSpec } from './helpers/text-sr.js';
import { contentTime, readSrReport } from '../src/ingest/sr-report.js';
import { triage } from '../src/ingest/triage.js';
import { IMPLEMENTATION_VERSION_NAME } from '../src/shared/implementation.js';

let node: TestNode;
let dir: string;

beforeAll(async () => {
  requireTool('dump2dcm');
  requireTool('dcmsend');
  dir = tempDir('precedent-sr-');
  node = await startTestNode({ dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'none' } } });
});

afterAll(async () => {
  await node?.stop();
});

async function dcmsend(...files: string[]): Promise<void> {
  const r = await run('dcmsend', ['-aet', 'RIS', '-aec', node.config.dimse.aeTitle, '127.0.0.1', String(node.port), ...files]);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
}

const sr = (spec: Partial<TextSrSpec> & Pick<TextSrSpec, 'StudyInstanceUID' | 'AccessionNumber' | 'sections'>): Promise<string> =>
  writeTextSr(dir, { SOPInstanceUID: newUid(), ...spec });

describe('reading a report SR', () => {
  it('triage sends the three report SR classes to the report reader and nothing else', () => {
    const header = {
      SOPInstanceUID: '1',
      StudyInstanceUID: '1',
      SeriesInstanceUID: '1',
      Modality: 'SR',
      BodyPartExamined: '',
      AnatomicRegionCodes: [],
      ViewPosition: '',
      PresentationIntentType: '',
      ImageType: [],
      ConversionType: '',
      hasPixelData: false,
    };
    for (const uid of Object.values(SR_CLASS)) expect(triage({ ...header, SOPClassUID: uid })).toMatchObject({ analyzable: false, report: true });
    // Our own similar-cases SR is Comprehensive 3D SR: not a report class.
    expect(triage({ ...header, SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.34' })).not.toHaveProperty('report');
  });

  it('reads TEXT items in tree order under their section, flat or in containers, and the completion and verification flags', async () => {
    const study = newUid();
    const tree = readSrReport(
      readFileSync(
        await sr({
          StudyInstanceUID: study,
          AccessionNumber: 'R1',
          ContentTime: '101530.25',
          sections: [
            { name: 'Findings', texts: ['Heart size normal.', 'Small left effusion.'] },
            { name: 'Impression', texts: ['Left pleural effusion.'] },
          ],
        }),
      ),
    );
    expect(tree).toEqual({
      report: {
        AccessionNumber: 'R1',
        StudyInstanceUID: study,
        status: 'final',
        reportedAt: Date.UTC(2024, 0, 5, 10, 15, 30, 250),
        text: 'FINDINGS:\nHeart size normal.\nSmall left effusion.\nIMPRESSION:\nLeft pleural effusion.',
      },
    });
    const flat = readSrReport(
      readFileSync(
        await sr({
          SOPClassUID: SR_CLASS.enhanced,
          StudyInstanceUID: study,
          AccessionNumber: '',
          flat: true,
          VerificationFlag: 'UNVERIFIED',
          sections: [
            { name: 'Clinical information', texts: ['Cough.'] },
            { name: 'Impression', texts: ['Normal chest.'] },
          ],
        }),
      ),
    );
    expect(flat).toMatchObject({ report: { AccessionNumber: '', status: 'preliminary', text: 'CLINICAL INFORMATION:\nCough.\nIMPRESSION:\nNormal chest.' } });
    expect(contentTime('20240105', '')).toBe(Date.UTC(2024, 0, 5));
    expect(contentTime('', '1200')).toBeUndefined();
  });

  it('does not read results as reports: a device as observer, Precedent itself, a tree without text', async () => {
    const base = { StudyInstanceUID: newUid(), AccessionNumber: 'R2' };
    const findings = [{ name: 'Impression', texts: ['Pneumothorax.'] }];
    expect(readSrReport(readFileSync(await sr({ ...base, deviceObserver: true, sections: findings })))).toEqual({
      skip: expect.stringMatching(/Observer Type = Device/),
    });
    expect(readSrReport(readFileSync(await sr({ ...base, SoftwareVersions: IMPLEMENTATION_VERSION_NAME, sections: findings })))).toEqual({
      skip: expect.stringMatching(/Precedent's own result/),
    });
    expect(readSrReport(readFileSync(await sr({ ...base, sections: [] })))).toEqual({ skip: expect.stringMatching(/without TEXT content items/) });
  });
});

describe('report SRs received by the node', () => {
  let study: string;

  it('files a Basic Text SR sent over DIMSE (dcmsend) with its study, labelled', async () => {
    const image = await buildFixture(
      { variant: 'dx12', syntax: 'ele', imageIndex: 3, accessionNumber: 'ACC-SR-1', patientName: 'SRSECRET^PATIENT' },
      join(dir, 'study'),
    );
    study = image.studyInstanceUID;
    await dcmsend(
      image.path,
      await sr({
        StudyInstanceUID: study,
        AccessionNumber: 'ACC-SR-1',
        ContentTime: '090000',
        sections: [
          { name: 'Findings', texts: ['Enlarged cardiac silhouette.'] },
          { name: 'Impression', texts: ['Cardiomegaly. No pneumothorax.'] },
        ],
      }),
    );
    const report = node.node.reports.currentForStudy(study);
    expect(report).toMatchObject({ source: 'dicom-sr', AccessionNumber: 'ACC-SR-1', status: 'final', matchedStudyInstanceUID: study });
    expect(report?.labels).toEqual({ status: 'abnormal', findings: ['cardiomegaly'], uncertain: [] });
  });

  it('replaces it with an amending SR written later, and keeps it against a preliminary or an older SR that arrives after', async () => {
    const first = node.node.reports.currentForStudy(study);
    await dcmsend(
      await sr({
        StudyInstanceUID: study,
        AccessionNumber: 'ACC-SR-1',
        ContentTime: '110000',
        predecessor: '1.2.3',
        sections: [{ name: 'Impression', texts: ['No acute cardiopulmonary abnormality.'] }],
      }),
    );
    const amended = node.node.reports.currentForStudy(study);
    expect(amended?.id).not.toBe(first?.id);
    expect(amended).toMatchObject({ status: 'corrected', labels: { status: 'normal' } });
    // Written before the amendment (08:00), sent after it: history, not the current report.
    await dcmsend(
      await sr({
        StudyInstanceUID: study,
        AccessionNumber: 'ACC-SR-1',
        ContentTime: '080000',
        sections: [{ name: 'Impression', texts: ['Right upper lobe consolidation.'] }],
      }),
    );
    // A preliminary, even one written later, never replaces a final report.
    await dcmsend(
      await sr({
        StudyInstanceUID: study,
        AccessionNumber: 'ACC-SR-1',
        ContentTime: '120000',
        CompletionFlag: 'PARTIAL',
        VerificationFlag: 'UNVERIFIED',
        sections: [{ name: 'Impression', texts: ['Pneumothorax.'] }],
      }),
    );
    expect(node.node.reports.currentForStudy(study)?.id).toBe(amended?.id);
  });

  it('keeps an SR sent over STOW-RS before its images, and matches it by Accession Number when they arrive', async () => {
    const later = newUid();
    const answer = await stow(`http://127.0.0.1:${node.dicomwebPort}/dicomweb/studies`, [
      {
        bytes: readFileSync(
          await sr({
            SOPClassUID: SR_CLASS.comprehensive,
            StudyInstanceUID: newUid(),
            AccessionNumber: 'ACC-SR-2',
            flat: true,
            sections: [{ name: 'Impression', texts: ['Bibasilar atelectasis.'] }],
          }),
        ),
      },
    ]);
    expect(answer.status).toBe(200);
    const waiting = node.node.reports.waitingCount();
    expect(waiting).toBeGreaterThanOrEqual(1);
    const image = await buildFixture(
      { variant: 'dx12', syntax: 'ele', imageIndex: 4, accessionNumber: 'ACC-SR-2', studyInstanceUID: later },
      join(dir, 'later'),
    );
    await dcmsend(image.path);
    expect(node.node.reports.currentForStudy(later)?.labels.findings).toEqual(['atelectasis']);
    expect(node.node.reports.waitingCount()).toBe(waiting - 1);
  });

  it('acknowledges result SRs without filing them, and logs no report text or patient data', async () => {
    const before = node.node.reports.currentMatched().length + node.node.reports.waitingCount();
    await dcmsend(
      await sr({
        StudyInstanceUID: study,
        AccessionNumber: 'ACC-SR-1',
        ContentTime: '130000',
        deviceObserver: true,
        sections: [{ name: 'Impression', texts: ['Pneumothorax.'] }],
      }),
    );
    expect(node.node.reports.currentMatched().length + node.node.reports.waitingCount()).toBe(before);
    expect(node.node.reports.currentForStudy(study)?.labels.status).toBe('normal');
    const logs = node.logs.join('\n');
    expect(logs).toContain('Observer Type = Device');
    expect(logs).toMatch(/"source":"dicom-sr"/);
    for (const secret of ['SRSECRET', 'SR-PAT-9', 'ACC-SR-1', 'ACC-SR-2', 'cardiac silhouette', 'Cardiomegaly', 'atelectasis', 'consolidation'])
      expect(logs).not.toContain(secret);
  });
});
