// A remote worker's job (`precedent worker`): claim the study round from the node, fetch its stored
// instances, decode and embed them, and post the vectors to the results queue, where the node (the
// only writer of catalog, index and results) takes them. The worker keeps nothing between jobs.
import type { AnalyzeStudyHandler } from '../shared/types.js';
import type { DecodedImage, Embedder } from '../shared/analysis.js';
import type { Logger } from '../shared/log.js';
import { describeError, isOutOfSpace, isPermanent, isPrecedentError, PrecedentError } from '../shared/errors.js';
import { encodeAttention, encodeFloats, type NodeClient, type StudyResult, type WireEmbedding } from '../shared/remote-analysis.js';
import { downsampleAttention } from './analyze-study.js';

export interface RemoteEmbedDeps {
  node: NodeClient;
  /** Decodes one stored instance (Part 10 bytes) as the node's own analysis would. */
  decode: (bytes: Buffer) => Promise<DecodedImage>;
  embedder: Embedder;
  post: (result: StudyResult) => Promise<void>;
  log: Logger;
  now?: () => number;
}

/** Per-image failures that skip that image (as in-process), not the study. */
const skipsImage = (err: unknown): boolean => isPrecedentError(err) && (err.code === 'DECODE_FAILED' || err.code === 'DATASET_INCOMPLETE');

export function remoteEmbedHandler(deps: RemoteEmbedDeps): AnalyzeStudyHandler {
  const now = deps.now ?? Date.now;
  const own = deps.embedder.card;
  return async (job, { attempt, final }) => {
    const log = deps.log.child({ StudyInstanceUID: job.StudyInstanceUID, generation: job.generation, attempt });
    const started = now();
    try {
      const manifest = await deps.node.claim(job.StudyInstanceUID, job.generation);
      if (!manifest) {
        log.info('skipping stale analysis job (study changed or finished since it was queued)');
        return;
      }
      if (manifest.model.name !== own.name || manifest.model.version !== own.version) {
        // Vectors of two models never meet in one index: the job is refused, the node says why.
        throw new PrecedentError(
          'MODEL_MISMATCH',
          `this worker runs ${own.name}@${own.version} but the node's index is built with ${manifest.model.name}@${manifest.model.version}: install the node's model on the worker`,
        );
      }
      log.info({ instances: manifest.instances.length }, 'study round claimed; fetching its instances from the node');
      const decoded: Array<{ SOPInstanceUID: string; version: number; image: DecodedImage }> = [];
      const skipped: string[] = [];
      let fetched = 0;
      for (const instance of manifest.instances) {
        try {
          const bytes = await deps.node.instance(job.StudyInstanceUID, instance.SOPInstanceUID, instance.version);
          fetched += bytes.length;
          decoded.push({ ...instance, image: await deps.decode(bytes) });
        } catch (err) {
          if (!skipsImage(err)) throw err;
          skipped.push(describeError(err).message);
          log.warn({ SOPInstanceUID: instance.SOPInstanceUID, err: describeError(err) }, 'image cannot be decoded; skipped');
        }
      }
      if (decoded.length === 0) {
        throw new PrecedentError(
          'DECODE_FAILED',
          manifest.instances.length === 0 ? 'no analysable image in the study' : `no image could be decoded: ${skipped[0] ?? ''}`,
        );
      }
      const results = await deps.embedder.embed(decoded.map((d) => d.image));
      const embeddings: WireEmbedding[] = decoded.map((d, i) => {
        const result = results[i];
        if (!result) throw new PrecedentError('INFERENCE_FAILED', 'embedder returned fewer results than images');
        return {
          SOPInstanceUID: d.SOPInstanceUID,
          version: d.version,
          vector: encodeFloats(result.vector),
          attention: encodeAttention(result.attention ? downsampleAttention(result.attention) : null),
          notes: d.image.notes,
        };
      });
      const result: StudyResult = {
        kind: 'embedded',
        StudyInstanceUID: job.StudyInstanceUID,
        generation: job.generation,
        model: { name: own.name, version: own.version },
        embeddings,
        skipped,
      };
      await deps.post(result);
      const resultBytes = embeddings.reduce((n, e) => n + e.vector.length + (e.attention?.data.length ?? 0), 0);
      log.info(
        {
          images: decoded.length,
          skipped: skipped.length,
          fetchedBytes: fetched,
          resultBytes,
          ms: now() - started,
          model: `${own.name}@${own.version}`,
          device: deps.embedder.device,
        },
        'study embedded; result handed to the node',
      );
    } catch (err) {
      if (isOutOfSpace(err)) throw err; // the worker's own scratch disk: put off, not the study's fault
      if (isPermanent(err) || final) {
        // The node records the reason as the study's failure (it cannot see this worker's log).
        const { code, message } = describeError(err);
        await deps.post({ kind: 'failed', StudyInstanceUID: job.StudyInstanceUID, generation: job.generation, code, reason: message });
        log.error({ err: describeError(err) }, 'study analysis failed on this worker; reason handed to the node');
      } else {
        log.warn({ err: describeError(err) }, 'study analysis attempt failed; will retry');
      }
      throw err;
    }
  };
}
