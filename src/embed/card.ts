// models/<name>/model.json: the contract between a trained model and the node. It is validated in full
// before any ONNX file is opened, and every problem is listed with its path, so whoever packages a model
// fixes them all in one go instead of one per restart.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PrecedentError } from '../shared/errors.js';
import type { ModelCard } from '../shared/analysis.js';

export const CARD_FILE = 'model.json';
export const MODEL_FILE = 'model.onnx';

const positiveInt = z.number().int().positive();
const text = z.string().trim().min(1);

const inputSchema = z
  .object({
    name: text,
    shape: z.tuple([
      z
        .number()
        .int()
        .refine((n) => n === -1 || n > 0, 'the batch dimension is -1 (dynamic) or a positive size'),
      positiveInt,
      positiveInt,
      positiveInt,
    ]),
    channels: z.union([z.literal(1), z.literal(3)]),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.shape[1] !== input.channels) {
      ctx.addIssue({ code: 'custom', path: ['shape', 1], message: `is ${input.shape[1]} but channels is ${input.channels}` });
    }
  });

/** See shared/similarity.ts: knots ascending, scores within 0..1 and as many as knots. */
const calibrationSchema = z
  .object({
    kind: z.literal('percentile'),
    cosines: z.array(z.number().min(-1).max(1)).min(2),
    scores: z.array(z.number().min(0).max(1)).min(2),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.scores.length !== c.cosines.length) {
      ctx.addIssue({ code: 'custom', path: ['scores'], message: `has ${c.scores.length} values for ${c.cosines.length} cosines` });
    }
    for (let i = 1; i < c.cosines.length; i++) {
      if (c.cosines[i]! < c.cosines[i - 1]!) {
        ctx.addIssue({ code: 'custom', path: ['cosines', i], message: 'knots must be in ascending order' });
        break;
      }
    }
  });

export const modelCardSchema = z
  .object({
    name: text,
    version: text,
    // Written into the SR's Contributing Equipment (IHE AIR), so it must be a valid DICOM UID.
    deviceUID: z
      .string()
      .max(64)
      .regex(/^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/, 'a DICOM UID: dot-separated numbers without leading zeros'),
    input: inputSchema,
    resize: z.enum(['stretch', 'letterbox']),
    normalisation: z.object({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) }).strict(),
    outputs: z.object({ embedding: text, attention: text.optional() }).strict(),
    embeddingDimension: positiveInt,
    intendedUse: text,
    trainingData: text,
    metrics: z.record(z.string(), z.unknown()),
    similarityCalibration: calibrationSchema.optional(),
  })
  // Strict: a misspelt key ("embeddingDimensions") is an error, not a silently ignored field.
  .strict()
  .superRefine(
    (card, ctx) => {
      for (const key of ['mean', 'std'] as const) {
        const n = card.normalisation[key].length;
        if (n !== card.input.channels) {
          ctx.addIssue({ code: 'custom', path: ['normalisation', key], message: `has ${n} values for ${card.input.channels} channel(s)` });
        }
      }
    },
    // zod skips a refinement after any aborting issue elsewhere (say a bad `resize`); run it whenever
    // the fields it reads are usable, so that one report lists every problem.
    { when: (payload) => normalisationCheckable(payload.value) },
  );

function normalisationCheckable(value: unknown): boolean {
  const v = value as { input?: { channels?: unknown }; normalisation?: { mean?: unknown; std?: unknown } } | null;
  return (v?.input?.channels === 1 || v?.input?.channels === 3) && Array.isArray(v.normalisation?.mean) && Array.isArray(v.normalisation?.std);
}

/** "input.shape.1: is 3 but channels is 1", one line per zod issue. */
function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
}

/** Validates a parsed model.json; throws MODEL_INVALID listing every problem. */
export function parseModelCard(raw: unknown, source = CARD_FILE): ModelCard {
  const parsed = modelCardSchema.safeParse(raw);
  if (!parsed.success) {
    const details = describeIssues(parsed.error);
    throw new PrecedentError('MODEL_INVALID', `${source} is invalid: ${details.join('; ')}`, { details });
  }
  const card: ModelCard = parsed.data;
  return card;
}

/**
 * Reads and validates `<dir>/model.json` and checks that `<dir>/model.onnx` is there. Synchronous and
 * cheap; the ONNX graph itself is checked against the card when a session opens it (see session.ts).
 */
export function loadModelCard(dir: string): ModelCard {
  const cardPath = join(dir, CARD_FILE);
  let text: string;
  try {
    text = readFileSync(cardPath, 'utf8');
  } catch (err) {
    throw new PrecedentError('MODEL_INVALID', `cannot read the model card ${cardPath}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PrecedentError('MODEL_INVALID', `${cardPath} is not valid JSON`, { cause: err });
  }
  const card = parseModelCard(raw, cardPath);
  const modelPath = join(dir, MODEL_FILE);
  if (!existsSync(modelPath) || !statSync(modelPath).isFile()) {
    throw new PrecedentError('MODEL_INVALID', `${modelPath} is missing: the model folder needs ${CARD_FILE} and ${MODEL_FILE}`);
  }
  return card;
}
