// Generates the key reference of docs/configuration.md from the zod schema itself: every key, its
// type and limits, default and environment variable, and its meaning (reference-notes.ts, or the JSDoc
// comment next to the key in src/config/*.ts). `npm run docs:config` writes it between the markers;
// test/docs.test.ts fails when the committed file is out of date. Not used at run time.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { configSchema } from './schema.js';
import { aeTitle } from './primitives.js';
import { KEY_NOTES, SECTION_NOTES, SECTION_TITLES } from './reference-notes.js';

export const BEGIN_MARKER = '<!-- BEGIN GENERATED: configuration keys (npm run docs:config, src/config/reference.ts) -->';
export const END_MARKER = '<!-- END GENERATED: configuration keys -->';

// ---- JSDoc comments from the schema sources ----

function sourceDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From dist/config/ the sources are in ../../src/config/.
  return readdirSync(here).includes('schema.ts') ? here : join(here, '..', '..', 'src', 'config');
}

interface ObjectLiteralInfo {
  props: Map<string, { comment: string | undefined; value: ts.Expression }>;
}

function jsDoc(node: ts.Node, text: string): string | undefined {
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  const docs = ranges.map((r) => text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**'));
  const last = docs.at(-1);
  if (!last) return undefined;
  return last
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, '').trim())
    .filter(Boolean)
    .join(' ');
}

/** path ("dimse.port", "export.destinations[].tls.ca") -> JSDoc comment. */
export function schemaComments(dir = sourceDir()): Map<string, string> {
  const decls = new Map<string, { init: ts.Expression; text: string }>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.startsWith('reference'))) {
    const text = readFileSync(join(dir, name), 'utf8');
    const file = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true);
    for (const stmt of file.statements) {
      if (!ts.isVariableStatement(stmt)) continue;
      for (const d of stmt.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.initializer) decls.set(d.name.text, { init: d.initializer, text });
      }
    }
  }
  const textOf = new Map<ts.Node, string>();
  const objectsOf = (expr: ts.Expression, text: string, seen = new Set<string>()): { objects: Array<ObjectLiteralInfo & { text: string }>; array: boolean } => {
    if (ts.isIdentifier(expr)) {
      const d = decls.get(expr.text);
      if (!d || seen.has(expr.text)) return { objects: [], array: false };
      return objectsOf(d.init, d.text, new Set([...seen, expr.text]));
    }
    if (!ts.isCallExpression(expr) || !ts.isPropertyAccessExpression(expr.expression)) return { objects: [], array: false };
    const method = expr.expression.name.text;
    const fromZ = ts.isIdentifier(expr.expression.expression) && expr.expression.expression.text === 'z';
    const [a0, a1] = expr.arguments;
    if (fromZ && method === 'object' && a0 && ts.isObjectLiteralExpression(a0)) {
      const props = new Map<string, { comment: string | undefined; value: ts.Expression }>();
      for (const p of a0.properties) {
        if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)))
          props.set(p.name.text, { comment: jsDoc(p, text), value: p.initializer });
        else if (ts.isShorthandPropertyAssignment(p)) props.set(p.name.text, { comment: jsDoc(p, text), value: p.name });
      }
      textOf.set(a0, text);
      return { objects: [{ props, text }], array: false };
    }
    if (fromZ && method === 'array' && a0) return { objects: objectsOf(a0, text, seen).objects, array: true };
    if (fromZ && (method === 'union' || method === 'discriminatedUnion')) {
      const list = method === 'union' ? a0 : a1;
      if (!list || !ts.isArrayLiteralExpression(list)) return { objects: [], array: false };
      return { objects: list.elements.flatMap((e) => objectsOf(e, text, seen).objects), array: false };
    }
    if (fromZ) return { objects: [], array: false };
    return objectsOf(expr.expression.expression, text, seen); // .default(), .optional(), .strict(), .refine() ...
  };

  const out = new Map<string, string>();
  const walk = (objects: Array<ObjectLiteralInfo & { text: string }>, prefix: string, depth: number): void => {
    if (depth > 6) return;
    for (const o of objects) {
      for (const [name, { comment, value }] of o.props) {
        const path = prefix ? `${prefix}.${name}` : name;
        if (comment && !out.has(path)) out.set(path, comment);
        const inner = objectsOf(value, o.text);
        if (inner.objects.length > 0) walk(inner.objects, inner.array ? `${path}[]` : path, depth + 1);
      }
    }
  };
  const root = decls.get('configSchema');
  if (root) walk(objectsOf(root.init, root.text).objects, '', 0);
  return out;
}

// ---- the schema at run time (zod v4 definitions) ----

interface ZodLike {
  def: {
    type: string;
    innerType?: ZodLike;
    defaultValue?: unknown;
    element?: ZodLike;
    options?: ZodLike[];
    values?: unknown[];
    shape?: Record<string, ZodLike>;
    entries?: Record<string, string>;
    checks?: Array<{ _zod?: { def?: { check?: string; value?: unknown; inclusive?: boolean } } }>;
  };
  shape?: Record<string, ZodLike>;
  options?: unknown[];
  isInt?: boolean;
  minLength?: number | null;
  maxLength?: number | null;
  format?: string | null;
}

interface Row {
  path: string;
  type: string;
  default: string;
  env: string;
  meaning: string;
}

function unwrap(t: ZodLike): { inner: ZodLike; optional: boolean; defaultValue?: unknown; hasDefault: boolean } {
  let inner = t;
  let optional = false;
  let hasDefault = false;
  let defaultValue: unknown;
  for (let i = 0; i < 8; i++) {
    const { type } = inner.def;
    if (type === 'default' || type === 'prefault') {
      hasDefault = true;
      defaultValue = inner.def.defaultValue;
    } else if (type === 'optional' || type === 'nullable') {
      optional = true;
    } else break;
    if (!inner.def.innerType) break;
    inner = inner.def.innerType;
  }
  return { inner, optional, defaultValue, hasDefault };
}

/** The bounds of a number from its checks (zod v4: greater_than / less_than, inclusive or not). */
function range(t: ZodLike): string {
  let lo: { value: number; inclusive: boolean } | undefined;
  let hi: { value: number; inclusive: boolean } | undefined;
  for (const c of t.def.checks ?? []) {
    const d = c._zod?.def;
    if (d?.check === 'greater_than' && typeof d.value === 'number') lo = { value: d.value, inclusive: d.inclusive !== false };
    if (d?.check === 'less_than' && typeof d.value === 'number') hi = { value: d.value, inclusive: d.inclusive !== false };
  }
  if (lo && !lo.inclusive && t.isInt) lo = { value: lo.value + 1, inclusive: true };
  if (lo && hi && lo.inclusive && hi.inclusive) return ` ${lo.value}–${hi.value}`;
  const parts = [lo ? `${lo.inclusive ? '≥' : '>'} ${lo.value}` : '', hi ? `${hi.inclusive ? '≤' : '<'} ${hi.value}` : ''].filter(Boolean);
  return parts.length ? ` ${parts.join(', ')}` : '';
}

function isObject(t: ZodLike): boolean {
  return t.def.type === 'object';
}

function typeName(t: ZodLike): string {
  if (t === (aeTitle as unknown as ZodLike)) return 'AE title';
  switch (t.def.type) {
    case 'string':
      if (t.format === 'url') return 'URL';
      return t.minLength && t.minLength > 1 ? `string (≥ ${t.minLength} characters)` : 'string';
    case 'number':
      return `${t.isInt ? 'integer' : 'number'}${range(t)}`;
    case 'boolean':
      return 'boolean';
    case 'enum':
      return (t.options ?? Object.values(t.def.entries ?? {})).map((o) => `\`${String(o)}\``).join(' \\| ');
    case 'literal':
      return (t.def.values ?? []).map((v) => `\`${String(v)}\``).join(' \\| ');
    case 'array':
      return `list of ${t.def.element ? describeElement(t.def.element) : 'values'}`;
    case 'union':
      return (t.def.options ?? []).map((o) => describeElement(o)).join(' \\| ');
    case 'object':
      return 'mapping';
    default:
      return t.def.type;
  }
}

function describeElement(t: ZodLike): string {
  const { inner } = unwrap(t);
  if (isObject(inner)) {
    const shape = inner.shape ?? inner.def.shape ?? {};
    const literal = Object.entries(shape).find(([, v]) => unwrap(v).inner.def.type === 'literal');
    const keys = Object.keys(shape).filter((k) => !literal || k !== literal[0]);
    const head = literal ? `${literal[0]}: ${String(unwrap(literal[1]).inner.def.values?.[0])}` : '';
    return `{${[head, ...keys].filter(Boolean).join(', ')}}`;
  }
  return typeName(inner);
}

function formatDefault(u: ReturnType<typeof unwrap>): string {
  if (!u.hasDefault) return u.optional ? 'unset' : '(required)';
  const v = u.defaultValue;
  if (typeof v === 'number' && v >= 1024 * 1024 && v % (1024 * 1024) === 0) {
    const gib = v / 1024 ** 3;
    return `\`${v}\` (${Number.isInteger(gib) ? `${gib} GiB` : `${v / 1024 ** 2} MiB`})`;
  }
  if (Array.isArray(v)) return `\`${JSON.stringify(v)}\``;
  if (v !== null && typeof v === 'object') return '';
  return `\`${String(v)}\``;
}

export function envName(path: string[]): string {
  const snake = (s: string): string =>
    s
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
      .toUpperCase();
  return `PRECEDENT_${path.map(snake).join('__')}`;
}

const escape = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function rows(t: ZodLike, path: string[], inArray: boolean, comments: Map<string, string>, out: Row[]): void {
  const u = unwrap(t);
  const key = path.join('.');
  const objectShape = isObject(u.inner) ? (u.inner.shape ?? u.inner.def.shape ?? {}) : undefined;
  const meaning = KEY_NOTES[key] ?? comments.get(key) ?? '';
  // A mapping with keys of its own is documented key by key (its own row only when described).
  if (objectShape && path.length > 1 && !meaning) {
    for (const [k, v] of Object.entries(objectShape)) rows(v, [...path, k], inArray, comments, out);
    return;
  }
  if (path.length > 1) {
    out.push({
      path: key,
      type: objectShape ? `mapping${u.optional ? ', optional' : ''}` : typeName(u.inner),
      default: objectShape ? (u.optional ? 'unset' : '') : formatDefault(u),
      env: inArray ? '—' : `\`${envName(path)}\``,
      meaning: escape(meaning || '(undocumented)'),
    });
  }
  if (objectShape && path.length > 1) {
    for (const [k, v] of Object.entries(objectShape)) rows(v, [...path, k], inArray, comments, out);
    return;
  }
  // Lists of mappings and unions of mappings: document the keys of each mapping.
  const elements =
    u.inner.def.type === 'array' && u.inner.def.element ? [u.inner.def.element] : u.inner.def.type === 'union' ? (u.inner.def.options ?? []) : [];
  const members = elements.flatMap((e) => {
    const inner = unwrap(e).inner;
    return inner.def.type === 'union' ? (inner.def.options ?? []) : [e];
  });
  const seen = new Set<string>();
  const suffix = u.inner.def.type === 'array' ? '[]' : '';
  for (const m of members) {
    const mi = unwrap(m).inner;
    if (!isObject(mi)) continue;
    for (const [k, v] of Object.entries(mi.shape ?? mi.def.shape ?? {})) {
      const childKey = `${key}${suffix}.${k}`;
      if (seen.has(childKey) || unwrap(v).inner.def.type === 'literal') continue;
      seen.add(childKey);
      const before = out.length;
      rows(v, [...path.slice(0, -1), `${path.at(-1) ?? ''}${suffix}`, k], true, comments, out);
      for (const r of out.slice(before)) r.env = '—';
    }
  }
}

/** The generated Markdown between the markers. */
export function renderConfigReference(comments = schemaComments()): string {
  const shape = (configSchema as unknown as ZodLike).shape ?? {};
  const parts: string[] = [];
  for (const [section, schema] of Object.entries(shape)) {
    const out: Row[] = [];
    const inner = unwrap(schema).inner;
    for (const [k, v] of Object.entries(inner.shape ?? inner.def.shape ?? {})) rows(v, [section, k], false, comments, out);
    const title = SECTION_TITLES[section];
    parts.push(`### \`${section}\`${title ? ` — ${title}` : ''}`, '', '| Key | Type | Default | Environment | Meaning |', '| --- | --- | --- | --- | --- |');
    for (const r of out) parts.push(`| \`${r.path}\` | ${r.type} | ${r.default || '—'} | ${r.env} | ${r.meaning} |`);
    const note = SECTION_NOTES[section];
    if (note) parts.push('', note);
    parts.push('');
  }
  return parts.join('\n');
}

/** Replaces what lies between the markers; throws when they are missing. */
export function spliceReference(document: string, generated: string): string {
  const begin = document.indexOf(BEGIN_MARKER);
  const end = document.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`docs/configuration.md lacks the markers ${BEGIN_MARKER} ... ${END_MARKER}`);
  return `${document.slice(0, begin + BEGIN_MARKER.length)}\n\n${generated.trimEnd()}\n\n${document.slice(end)}`;
}
