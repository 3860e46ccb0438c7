// WADO-RS pixels (PS3.18 10.4.1.1.3-4, 9.5): frames and Pixel Data bulk data, as stored or decoded
// to native samples per the Accept header (accept.ts), and rendered / thumbnail pictures as a viewer
// shows them. The pixel work runs on decoding threads (shared/pixels.ts).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IndexedObject } from '../shared/dicom-objects.js';
import { isPrecedentError } from '../shared/errors.js';
import type { RenderRequest } from '../shared/pixels.js';
import { chooseFrames, chooseRendered } from './accept.js';
import { createSelector, type WadoContext, type WadoParams } from './wado-context.js';

type Query = Record<string, string | string[] | undefined>;

/** Long side of a thumbnail when no viewport is asked. */
export const THUMBNAIL_SIDE = 128;
const MAX_VIEWPORT = 8192;

/** "1,3" -> [1, 3]; undefined when not a list of positive integers. */
export function frameList(list: string): number[] | undefined {
  const numbers = list.split(',').map((n) => (/^\d{1,9}$/.test(n.trim()) ? Number(n) : NaN));
  return numbers.every((n) => n >= 1) ? numbers : undefined;
}

/** A decoding failure means the representation asked for cannot be made: 406 with the reason. */
async function orRefused<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (err) {
    if (isPrecedentError(err) && err.code === 'DECODE_FAILED') return reply.code(406).send({ error: err.message });
    throw err;
  }
}

function multipartBody(parts: readonly Uint8Array[], partType: string): { boundary: string; body: Buffer } {
  const boundary = `precedent-${randomUUID()}`;
  const chunks = parts.flatMap((f) => [
    Buffer.from(`--${boundary}\r\nContent-Type: ${partType}\r\nContent-Length: ${f.byteLength}\r\n\r\n`, 'latin1'),
    Buffer.from(f),
    Buffer.from('\r\n', 'latin1'),
  ]);
  return { boundary, body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`, 'latin1')]) };
}

/** viewport=w,h and quality=1..100 (PS3.18 8.3.5.1); any other parameter is refused, not ignored. */
export function renderParams(query: Query, thumbnail: boolean): Pick<RenderRequest, 'viewport' | 'quality'> | { error: string } {
  const unknown = Object.keys(query).filter((k) => k !== 'viewport' && k !== 'quality');
  if (unknown.length > 0) return { error: `unsupported parameter(s): ${unknown.join(', ')} (viewport=width,height and quality=1..100 are supported)` };
  const out: Pick<RenderRequest, 'viewport' | 'quality'> = thumbnail ? { viewport: { width: THUMBNAIL_SIDE, height: THUMBNAIL_SIDE } } : {};
  const { viewport, quality } = query;
  if (viewport !== undefined) {
    const m = typeof viewport === 'string' ? /^(\d{1,5}),(\d{1,5})$/.exec(viewport) : null;
    const [width, height] = [Number(m?.[1]), Number(m?.[2])];
    if (!m || width < 1 || height < 1 || width > MAX_VIEWPORT || height > MAX_VIEWPORT)
      return { error: `viewport must be width,height in pixels (1 to ${MAX_VIEWPORT})` };
    out.viewport = { width, height };
  }
  if (quality !== undefined) {
    if (typeof quality !== 'string' || !/^\d{1,3}$/.test(quality) || Number(quality) < 1 || Number(quality) > 100)
      return { error: 'quality must be an integer from 1 to 100' };
    out.quality = Number(quality);
  }
  return out;
}

const hasImage = (o: IndexedObject): boolean => o.Rows !== null && o.Columns !== null;

export function registerPixelRoutes(app: FastifyInstance, ctx: WadoContext): void {
  const sel = createSelector(ctx);

  const pixels = async (request: FastifyRequest<{ Params: WadoParams & { frames?: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    const selected = sel.select(request);
    if (!selected) return sel.bad(reply);
    const [o] = selected;
    if (!o) return reply.code(404).send({ error: 'no object here' });
    const numbers = request.params.frames === undefined ? undefined : frameList(request.params.frames);
    if (request.params.frames !== undefined && !numbers) return reply.code(400).send({ error: 'frame numbers are positive integers separated by commas' });
    const choice = chooseFrames(request.headers.accept, o.TransferSyntaxUID, numbers?.length ?? Math.max(1, o.NumberOfFrames ?? 1));
    if ('refused' in choice) return reply.code(406).send({ error: choice.refused });
    const answer = await orRefused(reply, () => ctx.pixels.frames({ path: sel.path(o), numbers, as: choice.as }));
    if (!('ok' in answer)) return answer;
    if (!answer.ok)
      return reply.code(404).send({ error: answer.why === 'none' ? 'the object has no Pixel Data' : `frames are numbered 1 to ${answer.frameCount}` });
    // Native bulk data is the Pixel Data value: one part, every frame in it.
    const parts = numbers === undefined && choice.partType === 'application/octet-stream' ? [Buffer.concat(answer.frames)] : answer.frames;
    const partType = `${choice.partType}; transfer-syntax=${answer.transferSyntaxUID}`;
    if (!choice.multipart)
      return reply
        .code(200)
        .type(partType)
        .send(Buffer.from(parts[0] ?? new Uint8Array(0)));
    const { boundary, body } = multipartBody(parts, partType);
    return reply.code(200).type(`multipart/related; type="${choice.partType}"; transfer-syntax=${answer.transferSyntaxUID}; boundary=${boundary}`).send(body);
  };
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/frames/:frames', pixels);
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/bulkdata/7FE00010', pixels);

  // Rendered (an instance) and thumbnails (an instance, or a series' or study's representative image:
  // the first received image in series and instance order, else the first result image).
  const picture =
    (thumbnail: boolean) =>
    async (request: FastifyRequest<{ Params: WadoParams; Querystring: Query }>, reply: FastifyReply): Promise<FastifyReply> => {
      const format = chooseRendered(request.headers.accept);
      if ('refused' in format) return reply.code(406).send({ error: format.refused });
      const params = renderParams(request.query, thumbnail);
      if ('error' in params) return reply.code(400).send({ error: params.error });
      const selected = sel.select(request);
      if (!selected) return sel.bad(reply);
      if (selected.length === 0) return reply.code(404).send({ error: 'no objects here' });
      const image = selected.find((o) => hasImage(o) && o.origin === 'received') ?? selected.find(hasImage);
      if (!image)
        return reply.code(request.params.instance ? 406 : 404).send({ error: request.params.instance ? 'the object has no image to render' : 'no image here' });
      const bytes = await orRefused(reply, () => ctx.pixels.render({ path: sel.path(image), format: format.format, ...params }));
      if (!(bytes instanceof Uint8Array)) return bytes;
      return reply.code(200).type(`image/${format.format}`).send(Buffer.from(bytes));
    };
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/rendered', picture(false));
  app.get('/dicomweb/studies/:study/series/:series/instances/:instance/thumbnail', picture(true));
  app.get('/dicomweb/studies/:study/series/:series/thumbnail', picture(true));
  app.get('/dicomweb/studies/:study/thumbnail', picture(true));
}
