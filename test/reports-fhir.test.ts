// FHIR R4 DiagnosticReport POSTed to the DICOMweb server of a running node: the STOW-RS bearer token is
// required, the report is matched by accession (identifier / basedOn) or by Study Instance UID, and each
// outcome has its status (201 / 400 / 415 / 422).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, type Fixture } from './fixtures/build.js';
import { startTestNode, tempDir, type TestNode } from './helpers/node.js';
import { requireTool, run } from './helpers/tools.js';

const TOKEN = 'fhir-test-token-0123456789abcdef';
let node: TestNode;
let fixture: Fixture;

const acsn = (value: string) => ({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, value });
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

async function post(
  body: unknown,
  options: { token?: string; type?: string } = {},
): Promise<{ status: number; json: { issue?: Array<{ diagnostics: string }> }; location: string | null }> {
  const res = await fetch(`http://127.0.0.1:${node.dicomwebPort}/fhir/DiagnosticReport`, {
    method: 'POST',
    headers: {
      'content-type': options.type ?? 'application/fhir+json',
      ...(options.token === '' ? {} : { authorization: `Bearer ${options.token ?? TOKEN}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { issue?: Array<{ diagnostics: string }> }, location: res.headers.get('location') };
}

beforeAll(async () => {
  requireTool('storescu');
  const dir = tempDir('precedent-fhir-');
  fixture = await buildFixture({ variant: 'dx12', syntax: 'ele', imageIndex: 1, accessionNumber: 'ACC-FHIR-1' }, join(dir, 'study'));
  node = await startTestNode({ dicomweb: { enabled: true, port: 0, host: '127.0.0.1', auth: { type: 'bearer', tokens: [TOKEN] } } });
  expect((await run('storescu', ['-aec', node.config.dimse.aeTitle, '127.0.0.1', String(node.port), fixture.path])).code).toBe(0);
});

afterAll(async () => {
  await node?.stop();
});

describe('FHIR DiagnosticReport intake', () => {
  it('needs the STOW-RS token', async () => {
    const r = await post({ resourceType: 'DiagnosticReport', status: 'final', conclusion: 'Normal.', identifier: [acsn('ACC-FHIR-1')] }, { token: '' });
    expect(r.status).toBe(401);
    expect(node.node.reports.currentForStudy(fixture.studyInstanceUID)).toBeUndefined();
  });

  it('stores a report from presentedForm and conclusion, matched by basedOn accession (201)', async () => {
    const r = await post({
      resourceType: 'DiagnosticReport',
      id: 'dr-1',
      status: 'final',
      basedOn: [{ identifier: acsn('ACC-FHIR-1') }],
      presentedForm: [{ contentType: 'text/plain; charset=utf-8', data: b64('FINDINGS:\nEnlarged cardiac silhouette. No pneumothorax.') }],
      conclusion: 'Cardiomegaly.',
    });
    expect(r.status).toBe(201);
    expect(r.location).toMatch(/^fhir\/DiagnosticReport\/\d+$/);
    expect(r.json.issue?.[0]?.diagnostics).toBe('report stored with its study');
    const report = node.node.reports.currentForStudy(fixture.studyInstanceUID);
    expect(report?.text).toBe('FINDINGS:\nEnlarged cardiac silhouette. No pneumothorax.\nIMPRESSION:\nCardiomegaly.');
    expect(report?.labels).toEqual({ status: 'abnormal', findings: ['cardiomegaly'], uncertain: [] });
    expect(report?.source).toBe('fhir');
  });

  it('an amended report found by Study Instance UID replaces it', async () => {
    const r = await post({
      resourceType: 'DiagnosticReport',
      status: 'amended',
      identifier: [acsn('ACC-FHIR-1')],
      imagingStudy: [{ identifier: { system: 'urn:dicom:uid', value: `urn:oid:${fixture.studyInstanceUID}` } }],
      conclusion: 'No acute cardiopulmonary abnormality.',
    });
    expect(r.status).toBe(201);
    const report = node.node.reports.currentForStudy(fixture.studyInstanceUID);
    expect(report?.status).toBe('corrected');
    expect(report?.labels.status).toBe('normal');
  });

  it('keeps a report for an unknown study', async () => {
    const r = await post({ resourceType: 'DiagnosticReport', status: 'final', identifier: [acsn('ACC-NOT-YET')], conclusion: 'Small left effusion.' });
    expect(r.status).toBe(201);
    expect(r.json.issue?.[0]?.diagnostics).toBe('report stored; it waits for its study');
    expect(node.node.reports.waitingCount()).toBe(1);
  });

  it('answers 400, 415 and 422 for what it cannot take', async () => {
    expect((await post('{not json')).status).toBe(400);
    expect((await post({ resourceType: 'Observation', status: 'final' })).status).toBe(400);
    expect((await post({ resourceType: 'DiagnosticReport', status: 'final', conclusion: 'x' }, { type: 'text/plain' })).status).toBe(415);
    const noKey = await post({ resourceType: 'DiagnosticReport', status: 'final', conclusion: 'Normal.' });
    expect(noKey.status).toBe(422);
    expect(noKey.json.issue?.[0]?.diagnostics).toMatch(/no accession number/);
    expect((await post({ resourceType: 'DiagnosticReport', status: 'final', identifier: [acsn('A')] })).status).toBe(422);
    expect((await post({ resourceType: 'DiagnosticReport', status: 'bogus', identifier: [acsn('A')], conclusion: 'x' })).status).toBe(422);
  });

  it('logs no report text or accession', () => {
    const logs = node.logs.join('\n');
    for (const secret of ['ACC-FHIR-1', 'ACC-NOT-YET', 'Cardiomegaly', 'effusion']) expect(logs).not.toContain(secret);
  });
});
