// WADO-RS (PS3.18 10.4) over every object the node holds (received instances and results), found
// through the object index: instances as stored, and metadata.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IndexedObject, ObjectIndex } from '../shared/dicom-objects.js';
import { isSafeUidPath } from '../shared/uid.js';
import { createMetadataReader } from './metadata.js';
import type { DicomJson } from './dicom-json.js';

type Params = { study: string; series?: string; instance?: string };

const JSON_TYPE = 'application/dicom+json';

/** WADO-RS wants multipart/related; type="application/dicom" (or anything, when Accept is absent or a wildcard). */
function acceptsDicom(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .some((a) => a.startsWith('*/*') || a.startsWith('multipart/*') || (a.startsWith('multipart/related') && (!a.includes('type=') || /type="?application\/dicom"?(;|$|\s)/.test(a))) || a.startsWith('application/dicom;') || a === 'application/dicom');
}

function multipart(paths: ReadonlyArray<{ path: string; size: number }>): { boundary: string; body: Readable } {
  const boundary = `precedent-${randomUUID()}`;
  async function* parts(): AsyncGenerator<Buffer> {
    for (const o of paths) {
      yield Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${o.size}\r\n\r\n`, 'latin1');
      for await (const chunk of createReadStream(o.path)) yield chunk as Buffer;
      yield Buffer.from('\r\n', 'latin1');
    }
    yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
  }
  return { boundary, body: Readable.from(parts()) };
}

export function registerWadoRoutes(app: FastifyInstance, objects: ObjectIndex, dataDir: string): void {
  const metadataOf = createMetadataReader();
  const select = (params: Params): IndexedObject[] | undefined => {
    if (![params.study, params.series, params.instance].every((u) => u === undefined || isSafeUidPath(u))) return undefined;
    return objects.objects(params.study, params.series, params.instance);
  };
  const bad = (reply: FastifyReply): FastifyReply => reply.code(400).send({ error: 'a UID in the URL is not a valid UID' });

  // WADO-RS metadata: the headers of the selected objects (Pixel Data excluded).
  const metadata = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): Promise<FastifyReply> => {
    const selected = select(request.params);
    if (!selected) return bad(reply);
    const items = selected.map((o) => metadataOf.read(join(dataDir, o.path))).filter((j): j is DicomJson => j !== undefined);
    if (items.length === 0) return reply.code(404).send({ error: 'no objects here' });
    return reply.code(200).type(JSON_TYPE).send(items);
  };
  app.get('/dicomweb/studies/:study/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/metadata', metadata);

  // WADO-RS retrieve: Part 10 files as multipart/related; type="application/dicom", as stored.
  const retrieve = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): Promise<FastifyReply> => {
    if (!acceptsDicom(request.headers.accept)) {
      return reply.code(406).send({ error: 'only multipart/related; type="application/dicom" is offered' });
    }
    const selected = select(request.params);
    if (!selected) return bad(reply);
    if (selected.length === 0) return reply.code(404).send({ error: 'no objects here' });
    const { boundary, body } = multipart(selected.map((o) => ({ path: join(dataDir, o.path), size: o.size })));
    return reply.code(200).type(`multipart/related; type="application/dicom"; boundary=${boundary}`).send(body);
  };
  app.get('/dicomweb/studies/:study', retrieve);
  app.get('/dicomweb/studies/:study/series/:series', retrieve);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance', retrieve);
}
