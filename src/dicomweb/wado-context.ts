// What every WADO-RS route shares: the objects a request's URL names, seen through the caller's
// scope (a token with sources sees only the studies received from them: a study it may not see is
// answered exactly like one that does not exist, 404).
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IndexedObject, ObjectIndex } from '../shared/dicom-objects.js';
import type { PixelService } from '../shared/pixels.js';
import { isSafeUidPath } from '../shared/uid.js';

export type WadoParams = { study: string; series?: string; instance?: string };

export interface WadoContext {
  objects: ObjectIndex;
  pixels: PixelService;
  dataDir: string;
  baseUrl: (request: FastifyRequest) => string;
  /** The caller's sources when its token is scoped; undefined: every study. */
  scope: (request: FastifyRequest) => readonly string[] | undefined;
}

export interface Selector {
  /** The objects the URL names (empty when none, or none the caller may see); undefined: a UID is malformed. */
  select(request: FastifyRequest<{ Params: WadoParams }>): IndexedObject[] | undefined;
  path(o: IndexedObject): string;
  bad(reply: FastifyReply): FastifyReply;
  instanceUrl(request: FastifyRequest, o: IndexedObject): string;
}

export function createSelector(ctx: WadoContext): Selector {
  return {
    select(request) {
      const { study, series, instance } = request.params;
      if (![study, series, instance].every((u) => u === undefined || isSafeUidPath(u))) return undefined;
      return ctx.objects.objects(study, series, instance, ctx.scope(request));
    },
    path: (o) => join(ctx.dataDir, o.path),
    bad: (reply) => reply.code(400).send({ error: 'a UID in the URL is not a valid UID' }),
    instanceUrl: (request, o) => `${ctx.baseUrl(request)}/studies/${o.StudyInstanceUID}/series/${o.SeriesInstanceUID}/instances/${o.SOPInstanceUID}`,
  };
}
