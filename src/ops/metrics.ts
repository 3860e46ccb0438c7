// Prometheus metrics (prom-client) behind the shared Metrics interface. One Registry per node, never
// the process-global default, so two nodes in one process (tests) never share counters. Gauges that
// describe state (queue depth, free disk, studies by state) are read when Prometheus scrapes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EmbedStageTotals, Metrics } from '../shared/metrics.js';
import type { StudyState } from '../shared/types.js';

export interface GaugeSources {
  /** Waiting + delayed + active analysis jobs. */
  queueDepth?: () => Promise<number>;
  /** Free bytes on the file system of storage.dataDir. */
  diskFreeBytes?: () => number;
  /** storage.minFreeBytes, exported so alerts can compare. */
  minFreeBytes?: number;
  /** Studies by state, from the catalog. */
  studiesByState?: () => Record<StudyState, number>;
}

export interface PromMetrics extends Metrics {
  readonly registry: Registry;
  /** Gauge sources may be attached after the metrics were created (the queue is built later). */
  setSources(sources: GaugeSources): void;
  contentType(): string;
  render(): Promise<string>;
}

// Analysis: seconds to minutes; export: a C-STORE or STOW of a few objects.
const ANALYSIS_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const EXPORT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

export function createPromMetrics(options: { defaultMetrics?: boolean; process?: 'serve' | 'worker' } = {}): PromMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process: options.process ?? 'serve' });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'precedent_' });
  let sources: GaugeSources = {};

  const received = new Counter({
    name: 'precedent_objects_received_total',
    help: 'Objects offered by senders (C-STORE, STOW-RS parts) by calling AE title, protocol and outcome (stored, duplicate, new-version, ignored, failed).',
    labelNames: ['calling_ae', 'protocol', 'outcome'] as const,
    registers: [registry],
  });
  const completed = new Counter({
    name: 'precedent_studies_completed_total',
    help: 'Analysis jobs that reached an end state for their study generation, by outcome (done, failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const analysis = new Histogram({
    name: 'precedent_analysis_duration_seconds',
    help: 'Wall time of successful study analyses (decode, embed, similar cases, results).',
    buckets: ANALYSIS_BUCKETS,
    registers: [registry],
  });
  const exportDuration = new Histogram({
    name: 'precedent_export_duration_seconds',
    help: 'Wall time of delivery passes to a destination, observed once per object delivered or failed.',
    labelNames: ['destination', 'outcome'] as const,
    buckets: EXPORT_BUCKETS,
    registers: [registry],
  });
  const exportFailures = new Counter({
    name: 'precedent_export_failures_total',
    help: 'Failed delivery attempts of result objects, by destination (each is retried until export.maxAttempts).',
    labelNames: ['destination'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'precedent_queue_depth',
    help: 'Analysis jobs waiting, delayed or running.',
    registers: [registry],
    async collect() {
      if (sources.queueDepth) this.set(await sources.queueDepth());
    },
  });
  new Gauge({
    name: 'precedent_disk_free_bytes',
    help: 'Free bytes on the file system of storage.dataDir.',
    registers: [registry],
    collect() {
      if (sources.diskFreeBytes) this.set(sources.diskFreeBytes());
    },
  });
  new Gauge({
    name: 'precedent_disk_min_free_bytes',
    help: 'storage.minFreeBytes: below it objects are refused (DIMSE 0xA700, HTTP 507).',
    registers: [registry],
    collect() {
      if (sources.minFreeBytes !== undefined) this.set(sources.minFreeBytes);
    },
  });
  new Gauge({
    name: 'precedent_studies',
    help: 'Studies in the catalog by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      if (!sources.studiesByState) return;
      for (const [state, n] of Object.entries(sources.studiesByState())) this.set({ state }, n);
    },
  });

  // Counters fed from the embedder's own running totals when scraped: each adds what grew since it
  // last looked (every counter keeps its own mark, so the order prom-client collects them in is moot).
  let embedStages: (() => EmbedStageTotals) | undefined;
  let imagesSeen = 0;
  new Counter({
    name: 'precedent_embedded_images_total',
    help: 'Images embedded by the model (each once per analysis).',
    registers: [registry],
    collect() {
      if (!embedStages) return;
      const { images } = embedStages();
      this.inc(Math.max(0, images - imagesSeen));
      imagesSeen = Math.max(imagesSeen, images);
    },
  });
  const stageSeen = { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 };
  new Counter({
    name: 'precedent_embed_stage_seconds_total',
    help: 'Time the embedding workers spent per stage: preprocess (resize, normalise), inference (session.run), postprocess (L2, attention map).',
    labelNames: ['stage'] as const,
    registers: [registry],
    collect() {
      if (!embedStages) return;
      const totals = embedStages();
      const stages = [
        ['preprocess', 'preprocessMs'],
        ['inference', 'inferenceMs'],
        ['postprocess', 'postprocessMs'],
      ] as const;
      for (const [stage, key] of stages) {
        this.inc({ stage }, Math.max(0, totals[key] - stageSeen[key]) / 1000);
        stageSeen[key] = Math.max(stageSeen[key], totals[key]);
      }
    },
  });

  return {
    registry,
    observeEmbedder(read) {
      embedStages = read;
    },
    setSources(s) {
      sources = { ...sources, ...s };
    },
    received(callingAETitle, outcome, protocol = 'dimse') {
      received.inc({ calling_ae: callingAETitle, protocol, outcome });
    },
    studyCompleted(outcome) {
      completed.inc({ outcome });
    },
    analysisSeconds(seconds) {
      analysis.observe(seconds);
    },
    exportResult(destination, ok, seconds) {
      exportDuration.observe({ destination, outcome: ok ? 'sent' : 'failed' }, seconds);
      if (!ok) exportFailures.inc({ destination });
    },
    contentType: () => registry.contentType,
    render: () => registry.metrics(),
  };
}
