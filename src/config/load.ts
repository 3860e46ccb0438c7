// Loads the configuration once: embedded defaults, then a YAML/JSON file, then PRECEDENT_* environment
// overrides. Every validation error is reported with its path, so an operator fixes them all in one go.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { PrecedentError } from '../shared/errors.js';

export const ENV_PREFIX = 'PRECEDENT_';

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Key lookup that ignores case and underscores, so PRECEDENT_DIMSE__AE_TITLE finds dimse.aeTitle. */
function normalise(key: string): string {
  return key.replace(/_/g, '').toLowerCase();
}

function knownKeys(shapePath: string[]): string[] {
  let node: unknown = configSchema;
  for (const part of shapePath) {
    const shape = unwrapShape(node);
    node = shape?.[part];
  }
  const shape = unwrapShape(node);
  return shape ? Object.keys(shape) : [];
}

function unwrapShape(node: unknown): Record<string, unknown> | undefined {
  let cur = node as { def?: { innerType?: unknown }; shape?: Record<string, unknown> } | undefined;
  for (let i = 0; i < 5 && cur; i++) {
    if (cur.shape) return cur.shape;
    cur = cur.def?.innerType as typeof cur;
  }
  return undefined;
}

/**
 * PRECEDENT_<SECTION>__<KEY>=value, e.g. PRECEDENT_DIMSE__PORT=104 or
 * PRECEDENT_DIMSE__ALLOWED_CALLING_AE_TITLES='[PACS1, PACS2]'. Values are parsed as YAML scalars/flows.
 */
export function envOverrides(env: NodeJS.ProcessEnv): { tree: Tree; unknown: string[] } {
  const tree: Tree = {};
  const unknown: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const parts = name.slice(ENV_PREFIX.length).split('__');
    const path: string[] = [];
    for (const part of parts) {
      const match = knownKeys(path).find((k) => normalise(k) === normalise(part));
      if (!match) {
        path.length = 0;
        break;
      }
      path.push(match);
    }
    if (path.length !== parts.length || path.length === 0) {
      unknown.push(name);
      continue;
    }
    let node = tree;
    for (const part of path.slice(0, -1)) {
      if (!isTree(node[part])) node[part] = {};
      node = node[part] as Tree;
    }
    node[path[path.length - 1] as string] = parseYaml(raw) as unknown;
  }
  return { tree, unknown };
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isTree(v) && isTree(out[k]) ? merge(out[k] as Tree, v) : v;
  }
  return out;
}

export function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new PrecedentError('CONFIG_INVALID', `cannot read config file ${file}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new PrecedentError('CONFIG_INVALID', `config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${syntaxProblem(cause, text)}`, {
      cause,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new PrecedentError('CONFIG_INVALID', `config file ${file}: top level must be a mapping`);
  return parsed;
}

/** Where the parser stopped and why, as "line L, column C: what" (the first line of its message). */
function syntaxProblem(err: unknown, text: string): string {
  if (err instanceof YAMLParseError) {
    const at = err.linePos?.[0];
    const what = err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? err.message;
    return at ? `line ${at.line}, column ${at.col}: ${what}` : what;
  }
  const message = err instanceof Error ? err.message : String(err);
  // JSON.parse names a character offset; an operator edits lines.
  const offset = /position (\d+)/.exec(message)?.[1];
  if (offset === undefined) return message;
  const before = text.slice(0, Number(offset)).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}: ${message}`;
}

type Issue = z.core.$ZodIssue;

/**
 * "path: message" for every problem. An entry that matches no alternative of a union (an export
 * destination is DIMSE or DICOMweb) gets the problems of the alternative it comes closest to, each at
 * its own path, rather than zod's bare "Invalid input".
 */
function describeIssues(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = issue.errors.reduce((best, e) => (e.length < best.length ? e : best));
      const what = issue.message === 'Invalid input' ? [] : [`${path.map(String).join('.')}: ${issue.message}`];
      return [...what, ...describeIssues(closest, path)];
    }
    return [`${path.map(String).join('.') || '(root)'}: ${issue.message}`];
  });
}

/** Validates a raw tree; throws CONFIG_INVALID whose details list "path: message" for every problem. */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const details = describeIssues(result.error.issues);
  throw new PrecedentError('CONFIG_INVALID', `invalid configuration:\n  ${details.join('\n  ')}`, { details });
}

export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const fromFile = options.file ? readConfigFile(options.file) : {};
  const { tree, unknown } = envOverrides(options.env ?? process.env);
  if (unknown.length > 0) {
    const details = unknown.map((name) => `${name}: no such configuration key`);
    throw new PrecedentError('CONFIG_INVALID', `invalid configuration:\n  ${details.join('\n  ')}`, { details });
  }
  return parseConfig(merge(fromFile, tree));
}
