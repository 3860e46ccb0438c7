// A real Orthanc as the hospital PACS, routing every CXR to a node that has imported a small labelled
// archive from the shared radiographs (with the CLI, as an operator would) and exports its results
// back to Orthanc. Used by the end-to-end test and the real-viewer tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, type Fixture } from '../fixtures/build.js';
import { cxrDir } from '../fixtures/shared.js';
import { testModelDir } from './model-fixture.js';
import { startTestNode, tempDir, type TestNode } from './node.js';
import { startOrthanc, type TestOrthanc } from './orthanc.js';
import { freePort } from './process.js';
import { run } from './tools.js';

export interface OrthancInstance {
  ID: string;
  MainDicomTags: { SOPInstanceUID: string };
}

export interface PacsScenario {
  orthanc: TestOrthanc;
  node: TestNode;
  dataDir: string;
  /** Precedent's own DICOMweb root (no auth), when asked for with `precedentDicomweb`; Orthanc knows it as server `precedent`. */
  precedentDicomweb: string | undefined;
  /** Sends a CXR to Orthanc as a modality would and waits for the node's results in its study. */
  routeCxr(fixture: {
    imageIndex: number;
    patientName: string;
    patientID: string;
  }): Promise<{ source: Fixture; studyId: string; instances: OrthancInstance[] }>;
  stop(): Promise<void>;
}

/**
 * `dicomweb`: Orthanc's DICOMweb plugin. `precedentDicomweb`: the node's DICOMweb listener too (auth none),
 * registered in Orthanc's plugin as remote server `precedent` (which needs the plugin: it implies `dicomweb`).
 * `every`: one archive case per that many rows of the shared labels.csv, imported with the CLI.
 * `modelDir`: a fresh install with that model instead (the docs/images screenshots use models/default):
 * no CLI import, the starter reference archive embedded at start-up (archive.reference).
 */
export async function startPacsScenario(
  options: { dicomweb?: boolean; precedentDicomweb?: boolean; every?: number; modelDir?: string } = {},
): Promise<PacsScenario> {
  const fresh = options.modelDir !== undefined;
  const modelDir = options.modelDir ?? testModelDir();
  const dataDir = tempDir();
  const nodePort = await freePort();
  // Orthanc's remote-server entry is written before the node starts, so the node's port is chosen here.
  const dicomwebPort = options.precedentDicomweb === true ? await freePort() : undefined;
  const precedentDicomweb = dicomwebPort === undefined ? undefined : `http://127.0.0.1:${dicomwebPort}/dicomweb`;
  const orthanc = await startOrthanc(
    { aeTitle: 'PRECEDENT', port: nodePort },
    {
      dicomweb: options.dicomweb === true || precedentDicomweb !== undefined,
      ...(precedentDicomweb ? { dicomwebServers: { precedent: `${precedentDicomweb}/` } } : {}),
    },
  );
  const overrides = {
    dimse: { port: nodePort },
    ...(dicomwebPort === undefined ? {} : { dicomweb: { enabled: true, host: '127.0.0.1', port: dicomwebPort, auth: { type: 'none' as const } } }),
    model: { dir: modelDir },
    inference: { device: 'cpu' as const },
    studies: { completeAfterSeconds: 1 },
    archive: { reference: fresh },
    export: {
      destinations: [{ name: 'orthanc', aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort, forCallingAETitles: [] }],
      backoffSeconds: 0.5,
    },
  };
  const labels = readFileSync(join(cxrDir(), 'labels.csv'), 'utf8').trim().split('\n');
  const every = options.every ?? 60;
  const subset = [labels[0], ...labels.slice(1).filter((_, i) => i % every === 0)].join('\n');
  const csv = join(dataDir, 'archive.csv');
  writeFileSync(csv, `${subset}\n`);
  const config = join(dataDir, 'precedent.json');
  writeFileSync(config, JSON.stringify({ ...overrides, storage: { dataDir, minFreeBytes: 0 }, dimse: { port: 0 } }));
  if (!fresh) {
    const imported = await run('node', ['bin/precedent.js', 'import', '--config', config, '--images', cxrDir(), '--labels', csv], { timeoutMs: 300_000 });
    if (imported.code !== 0) throw new Error(`precedent import failed: ${imported.stderr.slice(-500)}`);
  }
  const node = await startTestNode(overrides, { dataDir });
  // A routed study is then compared with the whole reference archive.
  await node.node.referenceImported();

  async function routeCxr(f: { imageIndex: number; patientName: string; patientID: string }) {
    const source = await buildFixture({ variant: 'dx12', syntax: 'ele', ...f }, tempDir());
    const sent = await run('storescu', ['-aet', 'MODALITY', '-aec', orthanc.aeTitle, '127.0.0.1', String(orthanc.dicomPort), source.path]);
    if (sent.code !== 0) throw new Error(`storescu to Orthanc failed: ${sent.stderr}`);
    let studyId = '';
    let instances: OrthancInstance[] = [];
    const end = Date.now() + 120_000;
    while (Date.now() < end) {
      const found = await fetch(`${orthanc.url}/tools/lookup`, { method: 'POST', body: source.studyInstanceUID });
      const hits = (await found.json()) as Array<{ ID: string; Type: string }>;
      studyId = hits.find((h) => h.Type === 'Study')?.ID ?? '';
      if (studyId) {
        instances = await orthanc.get<OrthancInstance[]>(`/studies/${studyId}/instances`);
        if (instances.length >= 4) break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return { source, studyId, instances };
  }

  return {
    orthanc,
    node,
    dataDir,
    precedentDicomweb,
    routeCxr,
    async stop() {
      await node.stop();
      await orthanc.stop();
    },
  };
}
