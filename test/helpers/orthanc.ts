// A real Orthanc as the hospital PACS: it auto-routes every received CR/DX to the node (Lua
// OnStoredInstance), and accepts the node's results back. Ports are free ones; storage is temporary.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './node.js';
import { freePort } from './process.js';
import { requireTool } from './tools.js';

export interface TestOrthanc {
  aeTitle: string;
  dicomPort: number;
  url: string;
  /** The Orthanc process (the ingest bench reads its CPU time). */
  pid: number | undefined;
  get<T>(path: string): Promise<T>;
  file(instanceId: string): Promise<Buffer>;
  stop(): Promise<void>;
}

const ROUTE_LUA = `
-- Forward every original CR/DX image to Precedent; results (SR, SC) and Lua-originated copies stay.
function OnStoredInstance(instanceId, tags, metadata, origin)
  local modality = tags['Modality']
  if origin['RequestOrigin'] ~= 'Lua' and (modality == 'CR' or modality == 'DX') then
    SendToModality(instanceId, 'precedent')
  end
end
`;

/** Debian's orthanc-dicomweb plugin: the DICOMweb root a web viewer (OHIF) reads the PACS through. */
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/**
 * `dicomweb`: load the DICOMweb plugin. `dicomwebServers`: its remote DICOMweb servers (name → root URL
 * ending in `/`), which Orthanc can then query and retrieve from (/dicom-web/servers/<name>/...).
 * `route: false` (the ingest bench): no Lua routing rule.
 */
export async function startOrthanc(
  precedent: { aeTitle: string; port: number },
  options: { dicomweb?: boolean; dicomwebServers?: Record<string, string>; route?: boolean } = {},
): Promise<TestOrthanc> {
  requireTool('Orthanc');
  if (options.dicomweb === true && !existsSync(DICOMWEB_PLUGIN))
    throw new Error(`${DICOMWEB_PLUGIN} is missing: run scripts/install-test-peers.sh (Debian package orthanc-dicomweb)`);
  const dir = tempDir('precedent-orthanc-');
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'route.lua'), ROUTE_LUA);
  const config = {
    Name: 'PRECEDENT-TEST-PACS',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    DicomAet: 'ORTHANC',
    DicomPort: dicomPort,
    HttpPort: httpPort,
    HttpServerEnabled: true,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomCheckCalledAet: true,
    DicomAlwaysAllowStore: true,
    DicomModalities: { precedent: [precedent.aeTitle, '127.0.0.1', precedent.port] },
    // route: false (the ingest bench): Orthanc only stores, as a PACS receiving a burst does.
    LuaScripts: options.route === false ? [] : [join(dir, 'route.lua')],
    Plugins: options.dicomweb === true ? [DICOMWEB_PLUGIN] : [],
    DicomWeb: {
      Enable: options.dicomweb === true,
      Root: '/dicom-web/',
      Servers: Object.fromEntries(Object.entries(options.dicomwebServers ?? {}).map(([name, root]) => [name, [root]])),
    },
    StableAge: 2,
    DicomScuTimeout: 30,
  };
  const file = join(dir, 'orthanc.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const child: ChildProcess = spawn('Orthanc', [file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TCP_NODELAY: '1' } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/system`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > end) throw new Error(`Orthanc did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    aeTitle: 'ORTHANC',
    dicomPort,
    url,
    pid: child.pid,
    async get<T>(path: string): Promise<T> {
      const r = await fetch(`${url}${path}`);
      if (!r.ok) throw new Error(`Orthanc GET ${path}: HTTP ${r.status}`);
      return (await r.json()) as T;
    },
    async file(instanceId: string): Promise<Buffer> {
      const r = await fetch(`${url}/instances/${instanceId}/file`);
      return Buffer.from(await r.arrayBuffer());
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
