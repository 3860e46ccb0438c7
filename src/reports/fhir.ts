// FHIR R4 DiagnosticReport in: POST {DICOMweb server}/fhir/DiagnosticReport, behind the same
// authentication as STOW-RS (the server's onRequest hook). 201 stored, 400 not a DiagnosticReport,
// 422 one that cannot be filed (no accession or study, no text), 415 / 413 for the body itself.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../shared/log.js';
import type { ReportStatus } from '../shared/reports.js';
import type { IncomingReport, ReportIntake } from './intake.js';

const MAX_BYTES = 8 * 1024 * 1024;
const UID = /^[0-9]+(\.[0-9]+)*$/;

interface Identifier {
  system?: string;
  value?: string;
  type?: { coding?: Array<{ system?: string; code?: string }> };
}

const outcome = (severity: 'error' | 'information', code: string, diagnostics: string) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity, code, diagnostics }],
});

export function fhirStatus(status: unknown): ReportStatus | undefined {
  switch (status) {
    case 'final':
      return 'final';
    case 'amended':
    case 'corrected':
    case 'appended':
      return 'corrected';
    case 'registered':
    case 'partial':
    case 'preliminary':
      return 'preliminary';
    case 'cancelled':
    case 'entered-in-error':
      return 'cancelled';
    default:
      return undefined;
  }
}

const isAccession = (id: Identifier): boolean => (id.type?.coding ?? []).some((c) => c.code === 'ACSN');
const studyUid = (id: Identifier | undefined): string => {
  const value = (id?.system === 'urn:dicom:uid' ? id.value : '')?.replace(/^urn:oid:/, '') ?? '';
  return UID.test(value) && value.length <= 64 ? value : '';
};

/** The report a DiagnosticReport carries, or why it cannot be filed (422). */
export function readDiagnosticReport(resource: Record<string, unknown>): { report: IncomingReport } | { unprocessable: string } {
  const status = fhirStatus(resource['status']);
  if (!status) return { unprocessable: 'DiagnosticReport.status is missing or not a FHIR R4 report status' };
  const identifiers = (Array.isArray(resource['identifier']) ? resource['identifier'] : []) as Identifier[];
  const basedOn = (Array.isArray(resource['basedOn']) ? resource['basedOn'] : []) as Array<{ identifier?: Identifier }>;
  const accession =
    [...identifiers, ...basedOn.flatMap((b) => (b.identifier ? [b.identifier] : []))]
      .find((i) => isAccession(i) && typeof i.value === 'string')
      ?.value?.trim() ?? '';
  const studies = (Array.isArray(resource['imagingStudy']) ? resource['imagingStudy'] : []) as Array<{ identifier?: Identifier }>;
  const study = [...studies.map((s) => studyUid(s.identifier)), ...identifiers.map(studyUid)].find((u) => u !== '') ?? '';
  if (!accession && !study)
    return {
      unprocessable:
        'no accession number (identifier or basedOn.identifier of type ACSN) and no Study Instance UID (imagingStudy.identifier, system urn:dicom:uid)',
    };
  const forms = (Array.isArray(resource['presentedForm']) ? resource['presentedForm'] : []) as Array<{ contentType?: string; data?: string }>;
  const texts = forms
    .filter((f) => typeof f.data === 'string' && /^text\/plain\b/i.test(f.contentType ?? ''))
    .map((f) => Buffer.from(f.data!, 'base64').toString('utf8').trim());
  const conclusion = typeof resource['conclusion'] === 'string' ? resource['conclusion'].trim() : '';
  const text = [...texts, ...(conclusion ? [`IMPRESSION:\n${conclusion}`] : [])].filter(Boolean).join('\n');
  if (!text && status !== 'cancelled') return { unprocessable: 'no report text: neither conclusion nor a text/plain presentedForm' };
  return { report: { AccessionNumber: accession, StudyInstanceUID: study, status, text } };
}

async function readBody(stream: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function registerFhirRoutes(app: FastifyInstance, deps: { intake: ReportIntake; log: Logger }): void {
  const fail = (reply: FastifyReply, status: number, code: string, why: string): FastifyReply => {
    deps.log.warn({ status, why }, 'FHIR DiagnosticReport not accepted');
    return reply
      .code(status)
      .type('application/fhir+json')
      .send(outcome('error', code, why));
  };
  app.post('/fhir/DiagnosticReport', async (request, reply) => {
    if (!/^application\/(fhir\+)?json\b/i.test(request.headers['content-type'] ?? ''))
      return fail(reply, 415, 'not-supported', 'Content-Type must be application/fhir+json');
    const body = await readBody(request.body as IncomingMessage);
    if (!body) return fail(reply.header('Connection', 'close'), 413, 'too-costly', `body larger than ${MAX_BYTES} bytes`);
    let resource: unknown;
    try {
      resource = JSON.parse(body.toString('utf8'));
    } catch {
      return fail(reply, 400, 'structure', 'the body is not JSON');
    }
    if (typeof resource !== 'object' || resource === null || (resource as { resourceType?: unknown }).resourceType !== 'DiagnosticReport') {
      return fail(reply, 400, 'structure', 'the body is not a FHIR DiagnosticReport resource');
    }
    const read = readDiagnosticReport(resource as Record<string, unknown>);
    if ('unprocessable' in read) return fail(reply, 422, 'processing', read.unprocessable);
    const id = typeof (resource as { id?: unknown }).id === 'string' ? (resource as { id: string }).id : '';
    const [stored] = deps.intake.receive('fhir', id, [read.report]);
    const matched = stored?.matchedStudyInstanceUID !== undefined;
    return reply
      .code(201)
      .header('Location', `fhir/DiagnosticReport/${stored?.id ?? ''}`)
      .type('application/fhir+json')
      .send(outcome('information', 'informational', matched ? 'report stored with its study' : 'report stored; it waits for its study'));
  });
}
