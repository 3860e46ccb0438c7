// npm run bench, qido section: QIDO-RS latency over a catalog of 1M instances (BENCH_QIDO_INSTANCES),
// generated straight into the object index (10 instances per study, 2 series, 2 studies per patient,
// dates over 15 years, 5 modalities). Each search goes through the real route (fastify inject: query
// parsing, SQL, DICOM JSON; no socket) with a different patient / date / study per repetition. Next to
// it, in the same run: the baseline, the same searches straight on the object index (ObjectIndex.search,
// no HTTP, parsing or JSON: the floor the route adds to), and what one patient search costs on the same
// table without its indexes (a plain scan; one run, the others would take minutes each at 1M).
// Medians and p95 in milliseconds.
//   BENCH_QIDO_INSTANCES=1000000   BENCH_QIDO_REPEATS=31
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { dicomwebSchema } from '../src/config/network.js';
import { createDicomwebServer } from '../src/dicomweb/index.js';
import { parseQido } from '../src/dicomweb/qido-params.js';
import type { Match, ObjectQuery, QueryLevel } from '../src/shared/dicom-objects.js';
import { createLogger } from '../src/shared/log.js';
import type { IngestService } from '../src/shared/types.js';
import type { PixelService } from '../src/shared/pixels.js';
import { openCatalog, openObjectIndex } from '../src/store/index.js';
import { tempDir } from '../test/helpers/node.js';
import { median, printTable } from './table.js';

const INSTANCES = Number(process.env.BENCH_QIDO_INSTANCES ?? 1_000_000);
const REPEATS = Number(process.env.BENCH_QIDO_REPEATS ?? 31);
const PER_STUDY = 10;
const STUDIES = Math.ceil(INSTANCES / PER_STUDY);
const PATIENTS = Math.ceil(STUDIES / 2);
const MODALITIES = ['CR', 'DX', 'CT', 'MR', 'OT'];
const SURNAMES = ['SMITH', 'JONES', 'MULLER', 'GARCIA', 'ROSSI', 'DUBOIS', 'NOVAK', 'SILVA', 'KIM', 'OKAFOR'];
const TOKEN = 'bench-qido-token-0123456789abcdef';
const SCOPED = 'bench-qido-scoped-0123456789abcd';

const studyUid = (s: number): string => `2.25.1${s}`;
const patientOf = (s: number): number => s % PATIENTS;
const pid = (p: number): string => `PAT${String(p).padStart(7, '0')}`;
const dateOf = (s: number): string => {
  const d = new Date(Date.UTC(2010, 0, 1) + ((s * 7919) % (15 * 365)) * 86_400_000);
  return d.toISOString().slice(0, 10).replace(/-/g, '');
};

function generate(file: string): void {
  openCatalog(file).close(); // the catalog's tables and the object index, as the node creates them
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const object =
    db.prepare(`INSERT INTO dicom_objects VALUES (@sop, 'received', 1, @path, 1000000, '1.2.840.10008.1.2.1', @study, @series, '1.2.840.10008.5.1.4.1.1.1.1',
    @modality, @pid, @name, @name, '19600101', 'F', @date, '093000', '093000.000000', @acc, '', '', 'S1', 'CHEST', 'PA', @seriesNumber, @number, 2048, 2048, 16, NULL)`);
  const instance =
    db.prepare(`INSERT INTO instances (sop_instance_uid, version, study_instance_uid, series_instance_uid, sop_class_uid, transfer_syntax_uid, path, size, sha256, status, calling_ae_title, received_at)
    VALUES (?, 1, ?, ?, '1.2.840.10008.5.1.4.1.1.1.1', '1.2.840.10008.1.2.1', NULL, 0, '', 'accepted', ?, 0)`);
  const batch = db.transaction((from: number, to: number) => {
    for (let s = from; s < to; s++) {
      const p = patientOf(s);
      const name = `${SURNAMES[p % SURNAMES.length] ?? ''}${p}^ANNA`;
      for (let i = 0; i < PER_STUDY && s * PER_STUDY + i < INSTANCES; i++) {
        const seriesNumber = i < PER_STUDY / 2 ? 1 : 2;
        const [study, series, sop] = [studyUid(s), `${studyUid(s)}.${seriesNumber}`, `${studyUid(s)}.${seriesNumber}.${i}`];
        object.run({
          sop,
          path: `x/${sop}.dcm`,
          study,
          series,
          modality: MODALITIES[(s + seriesNumber) % MODALITIES.length],
          pid: pid(p),
          name,
          date: dateOf(s),
          acc: `ACC${s}`,
          seriesNumber,
          number: i + 1,
        });
        // One catalog row per study is enough for the scope's "received from" lookup.
        if (i === 0) instance.run(sop, study, series, s % 2 === 0 ? 'SITEA' : 'SITEB');
      }
    }
  });
  for (let s = 0; s < STUDIES; s += 10_000) batch(s, Math.min(STUDIES, s + 10_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

type Search = { name: string; url: (r: number) => string; token?: string };
const pick = (r: number, n: number): number => (r * 104_729 + 17) % n;
const SEARCHES: Search[] = [
  { name: 'studies?PatientID= (one patient)', url: (r) => `/dicomweb/studies?PatientID=${pid(pick(r, PATIENTS))}` },
  { name: 'studies?00100020= scoped token', url: (r) => `/dicomweb/studies?00100020=${pid(pick(r, PATIENTS))}`, token: SCOPED },
  {
    name: 'studies?PatientName=SURNAME1234* (wildcard)',
    url: (r) => `/dicomweb/studies?PatientName=${SURNAMES[pick(r, PATIENTS) % 10] ?? ''}${pick(r, PATIENTS)}*`,
  },
  { name: 'studies?AccessionNumber=', url: (r) => `/dicomweb/studies?AccessionNumber=ACC${pick(r, STUDIES)}` },
  { name: 'studies?StudyDate= one day, limit 100', url: (r) => `/dicomweb/studies?StudyDate=${dateOf(pick(r, STUDIES))}&limit=100` },
  {
    name: 'studies?StudyDate= one month & ModalitiesInStudy=CT, limit 100',
    url: (r) =>
      `/dicomweb/studies?StudyDate=${dateOf(pick(r, STUDIES)).slice(0, 6)}01-${dateOf(pick(r, STUDIES)).slice(0, 6)}28&ModalitiesInStudy=CT&limit=100`,
  },
  { name: 'studies/{uid}/series', url: (r) => `/dicomweb/studies/${studyUid(pick(r, STUDIES))}/series` },
  {
    name: 'studies/{uid}/series/{uid}/instances',
    url: (r) => `/dicomweb/studies/${studyUid(pick(r, STUDIES))}/series/${studyUid(pick(r, STUDIES))}.1/instances`,
  },
  { name: 'instances?SOPInstanceUID= (root)', url: (r) => `/dicomweb/instances?SOPInstanceUID=${studyUid(pick(r, STUDIES))}.1.0` },
  { name: 'studies?limit=25 (no filter: newest first)', url: () => '/dicomweb/studies?limit=25' },
];

/** Drops the indexes of the object index and of the catalog's instances (a plain scan's cost). */
function dropIndexes(file: string): void {
  const db = new Database(file);
  const names = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('dicom_objects', 'instances') AND sql IS NOT NULL")
    .all();
  for (const { name } of names) db.exec(`DROP INDEX ${name}`);
  db.close();
}

const LEVEL = (path: string): QueryLevel => (path.endsWith('/series') ? 'series' : path.endsWith('/instances') ? 'instance' : 'study');

/** The ObjectQuery the route makes of a URL (same parser), for timing the index search alone. */
function queryOf(url: string, token: string | undefined): ObjectQuery {
  const [path = '', search = ''] = url.split('?');
  const parts = path.split('/');
  const fixed: Match[] = [];
  // ['', 'dicomweb', 'studies', uid, 'series', uid, 'instances']
  if (parts[2] === 'studies' && parts[3]) fixed.push({ key: 'StudyInstanceUID', type: 'values', values: [parts[3]] });
  if (parts[4] === 'series' && parts[5]) fixed.push({ key: 'SeriesInstanceUID', type: 'values', values: [parts[5]] });
  const { query } = parseQido(Object.fromEntries(new URLSearchParams(search)), LEVEL(path), fixed, 'http://bench');
  return token === SCOPED ? { ...query, sources: ['SITEA'] } : query;
}

interface Timed {
  route: number[];
  direct: number[];
}

async function timeAll(file: string, repeats: number): Promise<Map<string, Timed>> {
  const objects = openObjectIndex(file);
  const config = dicomwebSchema.parse({ enabled: true, auth: { type: 'bearer', tokens: [TOKEN, { token: SCOPED, aeTitle: 'SITEA', sources: ['SITEA'] }] } });
  const unused = (): never => {
    throw new Error('not used by the QIDO bench');
  };
  const server = createDicomwebServer({
    config,
    ingest: unused as unknown as IngestService,
    objects,
    pixels: unused as unknown as PixelService,
    log: createLogger('silent'),
    dataDir: tempDir(),
    minFreeBytes: 0,
  });
  const app = server.build();
  const out = new Map<string, Timed>();
  for (const search of SEARCHES) {
    const timed: Timed = { route: [], direct: [] };
    // Route and index search interleaved, repetition by repetition; the first of each warms caches.
    for (let r = 0; r <= repeats; r++) {
      let started = performance.now();
      const res = await app.inject({ method: 'GET', url: search.url(r), headers: { authorization: `Bearer ${search.token ?? TOKEN}` } });
      const routeMs = performance.now() - started;
      if (res.statusCode !== 200) throw new Error(`${search.url(r)}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      const query = queryOf(search.url(r), search.token);
      started = performance.now();
      objects.search(query);
      const directMs = performance.now() - started;
      if (r > 0) {
        timed.route.push(routeMs);
        timed.direct.push(directMs);
      }
    }
    out.set(search.name, timed);
  }
  await server.close();
  objects.close();
  return out;
}

/** One patient search on the table without indexes (one run). */
function scanOnce(file: string): number {
  const objects = openObjectIndex(file);
  dropIndexes(file); // opening the index creates its indexes (IF NOT EXISTS): dropped after that
  const started = performance.now();
  objects.search(queryOf(`/dicomweb/studies?PatientID=${pid(pick(7, PATIENTS))}`, undefined));
  const ms = performance.now() - started;
  objects.close();
  return ms;
}

const p95 = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(0.95 * v.length))] ?? NaN;

export async function benchQido(): Promise<void> {
  const file = join(tempDir('precedent-bench-qido-'), 'catalog.sqlite');
  const started = performance.now();
  generate(file);
  console.log(
    `\n## QIDO-RS over ${INSTANCES.toLocaleString('en')} instances (${STUDIES.toLocaleString('en')} studies, ${PATIENTS.toLocaleString('en')} patients), generated in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  const timed = await timeAll(file, REPEATS);
  const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
  printTable(
    ['search (HTTP route, in-process)', 'route median ms', 'route p95 ms', 'baseline: index search alone, median ms'],
    SEARCHES.map((s) => {
      const t = timed.get(s.name) ?? { route: [], direct: [] };
      return [s.name, fmt(median(t.route)), fmt(p95(t.route)), fmt(median(t.direct))];
    }),
  );
  console.log(`\nWithout the indexes (plain scans), one studies?PatientID= search took ${fmt(scanOnce(file))} ms. ${REPEATS} repetitions per search.`);
  rmSync(dirname(file), { recursive: true, force: true });
}
