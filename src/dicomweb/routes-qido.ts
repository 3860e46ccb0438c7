// QIDO-RS (PS3.18 10.6) over every object the node holds: studies, series and instances, study-
// specific and at the root. Query values are patient data: only key names reach the log.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Match, ObjectIndex, QueryLevel } from '../shared/dicom-objects.js';
import type { Logger } from '../shared/log.js';
import { isSafeUidPath } from '../shared/uid.js';
import { parseQido, QueryError } from './qido-params.js';
import { rowToJson, shapeOf } from './qido-json.js';

type Params = { study?: string; series?: string };
type Query = Record<string, string | string[] | undefined>;

const JSON_TYPE = 'application/dicom+json';

/** QIDO-RS answers application/dicom+json (or application/json); an Accept without either is 406. */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept
    .split(',')
    .map((a) => (a.split(';')[0] ?? '').trim().toLowerCase())
    .some((t) => t === JSON_TYPE || t === 'application/json' || t === '*/*' || t === 'application/*');
}

interface Resource {
  path: string;
  level: QueryLevel;
  /** Levels whose attributes are returned (the root searches add the levels above). */
  returned: QueryLevel[];
}

const RESOURCES: Resource[] = [
  { path: '/dicomweb/studies', level: 'study', returned: ['study'] },
  { path: '/dicomweb/studies/:study/series', level: 'series', returned: ['series'] },
  { path: '/dicomweb/series', level: 'series', returned: ['study', 'series'] },
  { path: '/dicomweb/studies/:study/series/:series/instances', level: 'instance', returned: ['instance'] },
  { path: '/dicomweb/studies/:study/instances', level: 'instance', returned: ['series', 'instance'] },
  { path: '/dicomweb/instances', level: 'instance', returned: ['study', 'series', 'instance'] },
];

export function registerQidoRoutes(
  app: FastifyInstance,
  objects: ObjectIndex,
  baseUrl: (request: FastifyRequest) => string,
  scope: (request: FastifyRequest) => readonly string[] | undefined,
  log: Logger,
): void {
  for (const resource of RESOURCES) {
    app.get(resource.path, async (request: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply) => {
      const started = performance.now();
      if (!acceptsJson(request.headers.accept)) return reply.code(406).send({ error: `QIDO-RS answers ${JSON_TYPE} only` });
      const fixed: Match[] = [];
      for (const [name, uid, key] of [
        ['study', request.params.study, 'StudyInstanceUID'],
        ['series', request.params.series, 'SeriesInstanceUID'],
      ] as const) {
        if (uid === undefined) continue;
        if (!isSafeUidPath(uid)) return reply.code(400).send({ error: `the ${name} UID in the URL is not a valid UID` });
        fixed.push({ key, type: 'values', values: [uid] });
      }
      const service = baseUrl(request);
      let parsed;
      try {
        parsed = parseQido(request.query, resource.level, fixed, service);
      } catch (err) {
        if (!(err instanceof QueryError)) throw err;
        log.info({ resource: resource.path, keys: Object.keys(request.query), why: err.message.split(':')[0] }, 'QIDO-RS request refused (400)');
        return reply.code(400).send({ error: err.message });
      }
      const sources = scope(request);
      const { rows, more } = objects.search(sources ? { ...parsed.query, sources } : parsed.query);
      const shape = shapeOf(resource.level, resource.returned, parsed.include);
      const warnings = [...parsed.warnings];
      if (shape.unavailable.length > 0) warnings.push(`299 ${service}: includefield attributes not available in this search: ${shape.unavailable.join(',')}`);
      if (more) warnings.push(`299 ${service}: The number of results exceeded the maximum supported by the server. Additional results can be requested.`);
      if (warnings.length > 0) void reply.header('Warning', warnings);
      log.debug(
        { resource: resource.path, keys: Object.keys(request.query), results: rows.length, more, ms: Math.round(performance.now() - started) },
        'QIDO-RS search',
      );
      return reply
        .code(200)
        .type(JSON_TYPE)
        .send(rows.map((row) => rowToJson(row, resource.level, shape, service)));
    });
  }
}
