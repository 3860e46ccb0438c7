// QIDO-RS (PS3.18 10.6) and WADO-RS (10.4) over the node's result objects: enough for a DICOMweb
// viewer to find and fetch the SR and Secondary Captures of a study.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { instanceAttributes, seriesAttributes, studyAttributes, type ResultObject, type ResultsIndex } from './results.js';
import type { DicomJson } from './dicom-json.js';

type Params = { study: string; series?: string; instance?: string };
type Query = Record<string, string | undefined>;

const JSON_TYPE = 'application/dicom+json';

// Query keys accepted as keyword or tag (PS3.18 8.3.4.1).
const MATCH_KEYS: Record<string, string> = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  SOPClassUID: '00080016',
  Modality: '00080060',
};

function matches(item: DicomJson, query: Query): boolean {
  for (const [keyword, tag] of Object.entries(MATCH_KEYS)) {
    const wanted = query[keyword] ?? query[tag];
    if (wanted === undefined || wanted === '') continue;
    const values = (item[tag]?.Value ?? []).map(String);
    const accepted = wanted.split(',').map((s) => s.trim());
    if (!values.some((v) => accepted.includes(v))) return false;
  }
  return true;
}

function page<T>(items: T[], query: Query): T[] {
  const offset = Math.max(0, Number(query.offset ?? 0) || 0);
  const limit = Math.max(0, Number(query.limit ?? 0) || 0);
  return limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
}

/** WADO-RS wants multipart/related; type="application/dicom" (or anything, when Accept is absent or a wildcard). */
function acceptsDicom(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .some((a) => a.startsWith('*/*') || a.startsWith('multipart/*') || (a.startsWith('multipart/related') && (!a.includes('type=') || /type="?application\/dicom"?(;|$|\s)/.test(a))) || a.startsWith('application/dicom;') || a === 'application/dicom');
}

function multipart(objects: readonly ResultObject[]): { boundary: string; body: Readable } {
  const boundary = `precedent-${randomUUID()}`;
  async function* parts(): AsyncGenerator<Buffer> {
    for (const o of objects) {
      yield Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${o.size}\r\n\r\n`, 'latin1');
      for await (const chunk of createReadStream(o.path)) yield chunk as Buffer;
      yield Buffer.from('\r\n', 'latin1');
    }
    yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
  }
  return { boundary, body: Readable.from(parts()) };
}

export function registerResultRoutes(app: FastifyInstance, index: ResultsIndex, baseUrl: (request: FastifyRequest) => string): void {
  const select = (params: Params): ResultObject[] =>
    index
      .study(params.study)
      .filter((o) => params.series === undefined || o.SeriesInstanceUID === params.series)
      .filter((o) => params.instance === undefined || o.SOPInstanceUID === params.instance);

  const json = (reply: FastifyReply, body: unknown): FastifyReply => reply.code(200).type(JSON_TYPE).send(body);

  // QIDO-RS: studies with results, their series and instances.
  app.get('/dicomweb/studies', async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const items = index
      .studies()
      .map((uid) => index.study(uid))
      .filter((objects) => objects.length > 0)
      .map((objects) => studyAttributes(objects, baseUrl(request)))
      .filter((item) => matches(item, request.query));
    return json(reply, page(items, request.query));
  });
  app.get('/dicomweb/studies/:study/series', async (request: FastifyRequest<{ Params: Params; Querystring: Query }>, reply) =>
    json(reply, page(seriesAttributes(select(request.params), baseUrl(request)).filter((i) => matches(i, request.query)), request.query)),
  );
  const instances = async (request: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply): Promise<FastifyReply> =>
    json(reply, page(select(request.params).map((o) => instanceAttributes(o, baseUrl(request))).filter((i) => matches(i, request.query)), request.query));
  app.get('/dicomweb/studies/:study/instances', instances);
  app.get('/dicomweb/studies/:study/series/:series/instances', instances);

  // WADO-RS metadata: the headers of the selected objects (Pixel Data excluded).
  const metadata = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): Promise<FastifyReply> => {
    const objects = select(request.params);
    if (objects.length === 0) return reply.code(404).send({ error: 'no result objects here' });
    return json(reply, objects.map((o) => o.metadata));
  };
  app.get('/dicomweb/studies/:study/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/metadata', metadata);

  // WADO-RS retrieve: Part 10 files as multipart/related; type="application/dicom", as stored.
  const retrieve = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): Promise<FastifyReply> => {
    if (!acceptsDicom(request.headers.accept)) {
      return reply.code(406).send({ error: 'only multipart/related; type="application/dicom" is offered' });
    }
    const objects = select(request.params);
    if (objects.length === 0) return reply.code(404).send({ error: 'no result objects here' });
    const { boundary, body } = multipart(objects);
    return reply.code(200).type(`multipart/related; type="application/dicom"; boundary=${boundary}`).send(body);
  };
  app.get('/dicomweb/studies/:study', retrieve);
  app.get('/dicomweb/studies/:study/series/:series', retrieve);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance', retrieve);
}
