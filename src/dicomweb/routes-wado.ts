// WADO-RS (PS3.18 10.4) over every object the node holds (received instances and results), found
// through the object index: metadata, and studies, series and instances as Part 10 objects, as stored
// or in the transfer syntax the Accept header asks for (routes-pixels.ts serves frames and pictures).
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IndexedObject } from '../shared/dicom-objects.js';
import { isPrecedentError } from '../shared/errors.js';
import { NATIVE_SYNTAXES } from '../dicom/uids.js';
import { createMetadataReader } from './metadata.js';
import type { DicomJson } from './dicom-json.js';
import { chooseRetrieve } from './accept.js';
import { createSelector, type WadoContext, type WadoParams } from './wado-context.js';

const JSON_TYPE = 'application/dicom+json';

/** How one object is sent: its file as stored, or a copy in the asked syntax. */
interface Planned {
  object: IndexedObject;
  /** The syntax it is sent in. */
  syntax: string;
  transcode: boolean;
}

export function plan(objects: readonly IndexedObject[], target: string | undefined): Planned[] {
  return objects.map((object) => {
    const stored = object.TransferSyntaxUID;
    // An object without pixels has nothing to compress: a compressed syntax leaves it as stored.
    const keep = target === undefined || target === stored || (object.Rows === null && !NATIVE_SYNTAXES.has(target) && NATIVE_SYNTAXES.has(stored));
    return { object, syntax: keep ? stored : target, transcode: !keep };
  });
}

export function registerWadoRoutes(app: FastifyInstance, ctx: WadoContext): void {
  const metadataOf = createMetadataReader();
  const sel = createSelector(ctx);

  // WADO-RS metadata: the headers of the selected objects (Pixel Data excluded).
  const metadata = async (request: FastifyRequest<{ Params: WadoParams }>, reply: FastifyReply): Promise<FastifyReply> => {
    const selected = sel.select(request);
    if (!selected) return sel.bad(reply);
    const items: DicomJson[] = [];
    for (const o of selected) {
      const read = metadataOf.read(sel.path(o));
      if (!read) continue;
      // Pixel Data by reference (PS3.18 F.2.6), so a viewer fetches it (or its frames) when it needs it.
      items.push(
        read.pixelData
          ? { ...read.json, '7FE00010': { vr: read.pixelData.vr, BulkDataURI: `${sel.instanceUrl(request, o)}/bulkdata/7FE00010` } as DicomJson[string] }
          : read.json,
      );
    }
    if (items.length === 0) return reply.code(404).send({ error: 'no objects here' });
    return reply.code(200).type(JSON_TYPE).send(items);
  };
  app.get('/dicomweb/studies/:study/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/metadata', metadata);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/metadata', metadata);

  // WADO-RS retrieve: Part 10 objects, single-part application/dicom or multipart/related.
  const retrieve = async (request: FastifyRequest<{ Params: WadoParams }>, reply: FastifyReply): Promise<FastifyReply> => {
    const selected = sel.select(request);
    if (!selected) return sel.bad(reply);
    if (selected.length === 0) return reply.code(404).send({ error: 'no objects here' });
    const withPixels = new Set(selected.filter((o) => o.Rows !== null).map((o) => o.TransferSyntaxUID));
    const choice = chooseRetrieve(request.headers.accept, selected.length, withPixels);
    if ('refused' in choice) return reply.code(406).send({ error: choice.refused });
    const planned = plan(selected, choice.transferSyntaxUID);
    const tsParam = choice.transferSyntaxUID ? `; transfer-syntax=${choice.transferSyntaxUID}` : '';
    if (!choice.multipart) {
      const [only] = planned as [Planned];
      try {
        if (!only.transcode)
          return reply
            .code(200)
            .type(`application/dicom${tsParam}`)
            .send(createReadStream(sel.path(only.object)));
        return reply
          .code(200)
          .type(`application/dicom${tsParam}`)
          .send(Buffer.from(await ctx.pixels.transcode(sel.path(only.object), only.syntax)));
      } catch (err) {
        if (isPrecedentError(err) && err.code === 'DECODE_FAILED') return reply.code(406).send({ error: err.message });
        throw err;
      }
    }
    // A decoding failure mid-stream ends the response without its closing delimiter (the client sees it incomplete).
    const boundary = `precedent-${randomUUID()}`;
    async function* parts(): AsyncGenerator<Buffer> {
      for (const p of planned) {
        // Files as stored are streamed (their size is in the index); copies are made one at a time.
        const copy = p.transcode ? Buffer.from(await ctx.pixels.transcode(sel.path(p.object), p.syntax)) : undefined;
        yield Buffer.from(
          `--${boundary}\r\nContent-Type: application/dicom; transfer-syntax=${p.syntax}\r\nContent-Length: ${copy?.length ?? p.object.size}\r\n\r\n`,
          'latin1',
        );
        if (copy) yield copy;
        else for await (const chunk of createReadStream(sel.path(p.object))) yield chunk as Buffer;
        yield Buffer.from('\r\n', 'latin1');
      }
      yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
    }
    return reply.code(200).type(`multipart/related; type="application/dicom"${tsParam}; boundary=${boundary}`).send(Readable.from(parts()));
  };
  app.get('/dicomweb/studies/:study', retrieve);
  app.get('/dicomweb/studies/:study/series/:series', retrieve);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance', retrieve);
}
