// The embedding step of one study generation: decode every analysable image, embed them in one batch,
// store the embeddings (and a small attention map) so the index can be rebuilt without inference, and
// hand what it read and made to the next steps (EmbeddedStudy).
import type { Catalog, EmbeddedStudy, StoredEmbedding } from '../shared/catalog.js';
import { ATTENTION_MAX_SIDE, type AttentionMap, type Embedder, type ImageDecoder, type DecodedImage } from '../shared/analysis.js';
import type { AnalyzeStudyJob, InstanceRecord } from '../shared/types.js';
import type { Logger } from '../shared/log.js';
import { describeError, PrecedentError } from '../shared/errors.js';

export interface StudyAnalysisDeps {
  catalog: Catalog;
  decoder: ImageDecoder;
  embedder: Embedder;
  /** Absolute path of a catalogued file. */
  resolvePath: (relativePath: string) => string;
  now?: () => number;
}

/**
 * Attention maps are stored at most this many pixels on the long side (a full CXR would be ~30 MB).
 * The embedder already delivers them at that size; downsampleAttention() guards other embedders.
 */
export const STORED_ATTENTION_SIZE = ATTENTION_MAX_SIDE;

/** Area-average downsampling: each stored pixel is the mean of the source pixels it covers. */
export function downsampleAttention(map: AttentionMap, maxSide = STORED_ATTENTION_SIZE): AttentionMap {
  const scale = Math.max(map.width, map.height) / maxSide;
  if (scale <= 1) return map;
  const width = Math.max(1, Math.round(map.width / scale));
  const height = Math.max(1, Math.round(map.height / scale));
  const sum = new Float64Array(width * height);
  const count = new Uint32Array(width * height);
  for (let y = 0; y < map.height; y++) {
    const ty = Math.min(height - 1, Math.floor((y * height) / map.height));
    for (let x = 0; x < map.width; x++) {
      const t = ty * width + Math.min(width - 1, Math.floor((x * width) / map.width));
      sum[t] = (sum[t] ?? 0) + (map.data[y * map.width + x] ?? 0);
      count[t] = (count[t] ?? 0) + 1;
    }
  }
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (sum[i] ?? 0) / Math.max(1, count[i] ?? 0);
  return { width, height, data };
}

export type StudyEmbedding = (job: AnalyzeStudyJob, log: Logger) => Promise<EmbeddedStudy>;

export function createStudyEmbedding(deps: StudyAnalysisDeps): StudyEmbedding {
  const now = deps.now ?? Date.now;
  return async (job, log: Logger) => {
    const instances = deps.catalog.analyzableInstances(job.StudyInstanceUID);
    const decoded: Array<{ instance: InstanceRecord; image: DecodedImage }> = [];
    const failures: string[] = [];
    for (const instance of instances) {
      try {
        const image = await deps.decoder.decodeFile(deps.resolvePath(instance.path ?? ''));
        decoded.push({ instance, image });
      } catch (err) {
        // One undecodable image must not sink the rest of the study; it is logged by UID.
        failures.push(describeError(err).message);
        log.warn({ SOPInstanceUID: instance.SOPInstanceUID, err: describeError(err) }, 'image cannot be decoded; skipped');
      }
    }
    if (decoded.length === 0) {
      throw new PrecedentError(
        'DECODE_FAILED',
        instances.length === 0 ? 'no analysable image in the study' : `no image could be decoded: ${failures[0] ?? ''}`,
      );
    }
    const started = now();
    const results = await deps.embedder.embed(decoded.map((d) => d.image));
    const { name, version } = deps.embedder.card;
    const images = decoded.map(({ instance, image }, i) => {
      const result = results[i];
      if (!result) throw new PrecedentError('INFERENCE_FAILED', 'embedder returned fewer results than images');
      const embedding: StoredEmbedding = {
        SOPInstanceUID: instance.SOPInstanceUID,
        version: instance.version,
        StudyInstanceUID: job.StudyInstanceUID,
        modelName: name,
        modelVersion: version,
        vector: result.vector,
        attention: result.attention ? downsampleAttention(result.attention) : null,
        notes: image.notes,
        createdAt: now(),
      };
      deps.catalog.saveEmbedding(embedding);
      return { instance, embedding, ...(image.header ? { header: image.header } : {}) };
    });
    deps.catalog.markState(job.StudyInstanceUID, job.generation, 'embedded', now());
    log.info(
      { images: decoded.length, skipped: failures.length, inferenceMs: now() - started, model: `${name}@${version}`, device: deps.embedder.device },
      'study embedded',
    );
    return { StudyInstanceUID: job.StudyInstanceUID, instances, images };
  };
}
