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
import { acceptsOctets, FRAME_SYNTAX, frameNumbers, readPixelData } from './frames.js';

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

const instanceUrl = (base: string, o: IndexedObject): string => `${base}/studies/${o.StudyInstanceUID}/series/${o.SeriesInstanceUID}/instances/${o.SOPInstanceUID}`;

function octetParts(frames: readonly Buffer[]): { boundary: string; body: Buffer } {
  const boundary = `precedent-${randomUUID()}`;
  const type = `application/octet-stream; transfer-syntax=${FRAME_SYNTAX}`;
  const parts = frames.flatMap((f) => [Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\nContent-Length: ${f.length}\r\n\r\n`, 'latin1'), f, Buffer.from('\r\n', 'latin1')]);
  return { boundary, body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`, 'latin1')]) };
}

export function registerWadoRoutes(app: FastifyInstance, objects: ObjectIndex, dataDir: string, baseUrl: (request: FastifyRequest) => string): void {
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
    const items: DicomJson[] = [];
    for (const o of selected) {
      const read = metadataOf.read(join(dataDir, o.path));
      if (!read) continue;
      // Pixel Data by reference (PS3.18 F.2.6), so a viewer fetches it (or its frames) when it needs it.
      items.push(read.pixelData ? { ...read.json, '7FE00010': { vr: read.pixelData.vr, BulkDataURI: `${instanceUrl(baseUrl(request), o)}/bulkdata/7FE00010` } as DicomJson[string] } : read.json);
    }
    if (items.length === 0) return reply.code(404).send({ error: 'no objects here' });
    return reply.code(200).type(JSON_TYPE).send(items);
  };
  app.get('/dicomweb/studies/:study/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/metadata', metadata);

  // WADO-RS frames and Pixel Data bulk data of natively stored objects, little endian.
  const pixels = async (request: FastifyRequest<{ Params: Params & { frames?: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    if (!acceptsOctets(request.headers.accept)) return reply.code(406).send({ error: 'only multipart/related; type="application/octet-stream" is offered' });
    const selected = select(request.params);
    if (!selected) return bad(reply);
    const [o] = selected;
    if (!o) return reply.code(404).send({ error: 'no object here' });
    const pixel = readPixelData(join(dataDir, o.path), o.TransferSyntaxUID);
    if ('unavailable' in pixel) return reply.code(406).send({ error: pixel.unavailable });
    let frames: Buffer[] = [Buffer.concat(pixel.frames)];
    if (request.params.frames !== undefined) {
      const numbers = frameNumbers(request.params.frames, pixel.frames.length);
      if (!numbers) return reply.code(404).send({ error: `frames are numbered 1 to ${pixel.frames.length}` });
      frames = numbers.map((n) => pixel.frames[n - 1] as Buffer);
    }
    const { boundary, body } = octetParts(frames);
    return reply.code(200).type(`multipart/related; type="application/octet-stream"; transfer-syntax=${FRAME_SYNTAX}; boundary=${boundary}`).send(body);
  };
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/frames/:frames', pixels);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/bulkdata/7FE00010', pixels);

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
