// Orthanc's DICOMweb plugin as a client of Precedent: Precedent's DICOMweb root is a remote server
// ("DicomWeb": {"Servers": {"precedent": [...]}}) that Orthanc queries (QIDO-RS, through its
// /dicom-web/servers/precedent/get) and retrieves a study from (WADO-RS, .../retrieve), as a site's PACS
// would pull the node's results. The patient filter must hold through a real client too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPacsScenario, type OrthancInstance, type PacsScenario } from './helpers/pacs.js';

type DicomJson = Record<string, { Value?: unknown[] }>;
const PATIENT = 'PEER-0001';
let pacs: PacsScenario;
let studyUID = '';
let routedUIDs: string[] = [];

/** POSTs to Orthanc's REST API; its DICOMweb client answers with the remote server's body or an error status. */
async function orthancPost<T>(path: string, body: unknown): Promise<T> {
  const r = await fetch(`${pacs.orthanc.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`Orthanc POST ${path}: HTTP ${r.status} ${await r.text()}`);
  const text = await r.text();
  return (text.trim() === '' ? [] : JSON.parse(text)) as T;
}

// Orthanc's /get takes the query keys apart from the URI (an explicit "?" in Uri is refused).
const studiesOf = (patientID: string) =>
  orthancPost<DicomJson[]>('/dicom-web/servers/precedent/get', { Uri: '/studies', Arguments: { '00100020': patientID } });

beforeAll(async () => {
  pacs = await startPacsScenario({ precedentDicomweb: true });
  const routed = await pacs.routeCxr({ imageIndex: 1001, patientName: 'PEER^ORTHANC', patientID: PATIENT });
  if (routed.instances.length !== 4) throw new Error(`expected the CXR and 3 results, found ${routed.instances.length}`);
  studyUID = routed.source.studyInstanceUID;
  routedUIDs = routed.instances.map((i) => i.MainDicomTags.SOPInstanceUID).sort();
  // Orthanc forgets the study, so that what it holds afterwards came from Precedent over WADO-RS.
  const removed = await fetch(`${pacs.orthanc.url}/studies/${routed.studyId}`, { method: 'DELETE' });
  if (!removed.ok) throw new Error(`Orthanc DELETE study: HTTP ${removed.status}`);
}, 600_000);

afterAll(async () => {
  await pacs?.stop();
});

describe("Orthanc's DICOMweb plugin with Precedent as a remote server", () => {
  it('QIDO-RS with a PatientID filter: the patient matches their one study, another patient none', async () => {
    const own = await studiesOf(PATIENT);
    expect(own.map((s) => s['0020000D']?.Value?.[0])).toEqual([studyUID]);
    expect(own[0]?.['00100020']?.Value?.[0]).toBe(PATIENT);
    expect(await studiesOf('PEER-0002')).toEqual([]);
  });

  it("WADO-RS retrieve pulls the study's instances into Orthanc with the same SOP Instance UIDs", async () => {
    expect(await pacs.orthanc.get<unknown[]>('/instances')).toEqual([]);
    await orthancPost('/dicom-web/servers/precedent/retrieve', { Resources: [{ Study: studyUID }] });
    const instances = await pacs.orthanc.get<OrthancInstance[]>('/instances?expand');
    expect(instances.map((i) => i.MainDicomTags.SOPInstanceUID).sort()).toEqual(routedUIDs);
  });
});
