// What a node and its remote analysis workers exchange (`precedent worker`, workers.inProcess off).
// Jobs carry UIDs only; a worker claims the study round from the node's worker API, fetches each
// stored instance as-is (the compressed Part 10 bytes) and hands back vectors and attention maps
// through a durable Redis queue that the node consumes. No patient data travels in either queue.
import type { AttentionMap } from './analysis.js';

/** The node's answer to a claim: what the round holds and which model its index is built with. */
export interface StudyManifest {
  StudyInstanceUID: string;
  generation: number;
  model: { name: string; version: string };
  instances: Array<{ SOPInstanceUID: string; version: number }>;
}

/** One image's analysis, as it travels through Redis (Float32 little-endian arrays in base64). */
export interface WireEmbedding {
  SOPInstanceUID: string;
  version: number;
  vector: string;
  attention: { width: number; height: number; data: string } | null;
  notes: string[];
}

/**
 * A worker's outcome for one study round: its embeddings, or why it gave up (a coded reason the node
 * records as the study's failure). `model` is the worker's own name@version, checked again by the node.
 */
export type StudyResult =
  | { kind: 'embedded'; StudyInstanceUID: string; generation: number; model: { name: string; version: string }; embeddings: WireEmbedding[]; skipped: string[] }
  | { kind: 'failed'; StudyInstanceUID: string; generation: number; code: string; reason: string };

/** Where the node answers workers; the worker's node client and the node's server agree on these. */
export const WORKER_API = {
  claim: (StudyInstanceUID: string, generation: number) => `/worker/v1/studies/${encodeURIComponent(StudyInstanceUID)}/generations/${generation}/claim`,
  instance: (StudyInstanceUID: string, SOPInstanceUID: string, version: number) =>
    `/worker/v1/studies/${encodeURIComponent(StudyInstanceUID)}/instances/${encodeURIComponent(SOPInstanceUID)}/versions/${version}`,
} as const;

/** The node's worker API as a worker sees it (workers/node-client.ts over HTTP; tests may fake it). */
export interface NodeClient {
  /** The round's manifest, or undefined when the round is stale or already finished (nothing to do). */
  claim(StudyInstanceUID: string, generation: number): Promise<StudyManifest | undefined>;
  /** The stored Part 10 bytes of one instance of that study. */
  instance(StudyInstanceUID: string, SOPInstanceUID: string, version: number): Promise<Buffer>;
}

export function encodeFloats(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function decodeFloats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  // Copied into its own buffer: Buffer.from may hand back a pooled slab at an unaligned offset.
  const out = new Float32Array(bytes.byteLength / Float32Array.BYTES_PER_ELEMENT);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function encodeAttention(map: AttentionMap | null): WireEmbedding['attention'] {
  return map ? { width: map.width, height: map.height, data: encodeFloats(map.data) } : null;
}

export function decodeAttention(wire: WireEmbedding['attention']): AttentionMap | null {
  return wire ? { width: wire.width, height: wire.height, data: decodeFloats(wire.data) } : null;
}
