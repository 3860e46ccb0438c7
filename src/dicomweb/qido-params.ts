// QIDO-RS query parameters (PS3.18 8.3.4) -> a validated search. Nothing is ignored: a key we cannot
// match on, a key of a lower level than the resource, a malformed value or a repeated key is a
// QueryError (HTTP 400 with the reason), because a filter silently dropped returns other patients.
import type { Match, ObjectQuery, QueryLevel } from '../shared/dicom-objects.js';
import { timeKey } from '../shared/dicom-objects.js';
import { KEYS, resolveAttribute, type KeyInfo } from './qido-keys.js';

export class QueryError extends Error {}

/** The most rows one response carries; a larger (or no) limit gets this many and the Warning. */
export const MAX_RESULTS = 1000;

export interface QidoRequest {
  query: ObjectQuery;
  /** Tags asked for with includefield, or 'all'. */
  include: Set<string> | 'all';
  /** Warning header texts (PS3.18 8.3.4). */
  warnings: string[];
}

type Raw = Record<string, string | string[] | undefined>;

const LEVELS: QueryLevel[] = ['study', 'series', 'instance'];
const MAX_LENGTH: Record<string, number> = { LO: 64, SH: 16, CS: 16, PN: 64 };
const WILDCARD_VRS = new Set(['LO', 'SH', 'CS', 'PN']);
const UID = /^[0-9]+(\.[0-9]+)*$/;

const FORMS: Record<string, string> = {
  DA: 'a date (YYYYMMDD, or a range YYYYMMDD-YYYYMMDD with either end open)',
  TM: 'a time (HH[MM[SS[.FFFFFF]]], or a range of two with either end open)',
};
const malformed = (keyword: string, value: string, vr: string): QueryError => new QueryError(`${keyword}: '${value}' is not ${FORMS[vr] ?? vr}`);

function date(value: string, keyword: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !d || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) throw malformed(keyword, value, 'DA');
  return value;
}

function time(value: string, keyword: string, bound: 'low' | 'high'): string {
  const key = timeKey(value, bound);
  if (key === undefined || value.includes(':')) throw malformed(keyword, value, 'TM');
  return key;
}

function range(value: string, info: KeyInfo): Match {
  const parts = value.split('-');
  if (parts.length > 2 || (parts.length === 2 && parts[0] === '' && parts[1] === '')) throw malformed(info.keyword, value, info.vr);
  const key = info.match as NonNullable<KeyInfo['match']>;
  const [a = '', b] = parts;
  if (info.vr === 'DA') {
    if (b === undefined) return { key, type: 'values', values: [date(a, info.keyword)] };
    return { key, type: 'range', ...(a ? { from: date(a, info.keyword) } : {}), ...(b ? { to: date(b, info.keyword) } : {}) };
  }
  // TM: a single value is the whole span it names ("0930" is 09:30:00 to 09:30:59.999999).
  const hi = b === undefined ? a : b;
  return { key, type: 'range', ...(a ? { from: time(a, info.keyword, 'low') } : {}), ...(hi ? { to: time(hi, info.keyword, 'high') } : {}) };
}

/** One matching key's values -> a condition, or undefined for universal matching. */
function matchOf(info: KeyInfo, raw: string[]): Match | undefined {
  const key = info.match as NonNullable<KeyInfo['match']>;
  const lists = info.vr === 'UI' || info.keyword === 'ModalitiesInStudy';
  if (raw.length > 1 && !lists) throw new QueryError(`${info.keyword} is given more than once`);
  const values = lists ? raw.flatMap((v) => v.split(/[,\\]/)).map((v) => v.trim()) : raw.map((v) => v.trim());
  if (values.every((v) => v === '' || /^\*+$/.test(v))) return undefined;
  if (info.vr === 'UI') {
    for (const v of values) if (!UID.test(v) || v.length > 64) throw new QueryError(`${info.keyword}: '${v}' is not a UID`);
    return { key, type: 'values', values };
  }
  const [value = ''] = values;
  if (info.vr === 'DA' || info.vr === 'TM') return range(value, info);
  if (info.vr === 'IS') {
    if (!/^[+-]?\d{1,12}$/.test(value)) throw new QueryError(`${info.keyword}: '${value}' is not an integer`);
    return { key, type: 'values', values: [String(Number(value))] };
  }
  for (const v of values) {
    if (v.includes('\\')) throw new QueryError(`${info.keyword}: multiple values (\\) are not supported`);
    if (v.length > (MAX_LENGTH[info.vr] ?? 64)) throw new QueryError(`${info.keyword}: '${v}' is longer than ${info.vr} allows`);
    if (info.vr === 'CS' && !/^[A-Z0-9 _*?]*$/.test(v))
      throw new QueryError(`${info.keyword}: '${v}' is not a code string (upper-case letters, digits, space, _)`);
    if (info.vr === 'PN' && v.includes('=')) throw new QueryError(`${info.keyword}: only the alphabetic component group can be matched (no '=')`);
  }
  const wild = values.some((v) => /[*?]/.test(v));
  if (wild && WILDCARD_VRS.has(info.vr)) {
    if (values.length > 1) throw new QueryError(`${info.keyword}: wildcards cannot be combined with a list`);
    return { key, type: 'wildcard', pattern: value };
  }
  return { key, type: 'values', values };
}

function flag(raw: string[], name: string, warning: string, warnings: string[]): void {
  if (raw.length !== 1 || !['true', 'false'].includes(raw[0] ?? '')) throw new QueryError(`${name} must be true or false`);
  if (raw[0] === 'true') warnings.push(warning);
}

function count(raw: string[], name: string, min: number): number {
  if (raw.length !== 1 || !/^\d{1,9}$/.test(raw[0] ?? '') || Number(raw[0]) < min)
    throw new QueryError(`${name} must be an integer of at least ${min}, given once`);
  return Number(raw[0]);
}

/**
 * `level`: what the resource returns; `fixed`: matches from the path ({study}, {series}).
 * Keys of `level` and the levels above it can be matched; keys below it cannot.
 */
export function parseQido(raw: Raw, level: QueryLevel, fixed: Match[], service: string): QidoRequest {
  const warnings: string[] = [];
  const matches: Match[] = [...fixed];
  const seen = new Set<string>();
  let include: Set<string> | 'all' = new Set();
  let limit = MAX_RESULTS;
  let offset = 0;
  for (const [name, given] of Object.entries(raw)) {
    if (given === undefined) continue;
    const values = Array.isArray(given) ? given : [given];
    switch (name) {
      case 'limit':
        limit = Math.min(count(values, 'limit', 1), MAX_RESULTS);
        continue;
      case 'offset':
        offset = count(values, 'offset', 0);
        continue;
      case 'fuzzymatching':
        flag(values, name, `299 ${service}: The fuzzymatching parameter is not supported. Only literal matching has been performed.`, warnings);
        continue;
      case 'emptyvaluematching':
        flag(values, name, `299 ${service}: The emptyvaluematching parameter is not supported. Empty Value Matching has not been performed.`, warnings);
        continue;
      case 'multiplevaluematching':
        flag(values, name, `299 ${service}: The multiplevaluematching parameter is not supported. Multiple Value Matching has not been performed.`, warnings);
        continue;
      case 'includefield':
        for (const field of values.flatMap((v) => v.split(',')).map((v) => v.trim())) {
          if (field === 'all') include = 'all';
          else {
            const resolved = resolveAttribute(field);
            if (!resolved) throw new QueryError(`includefield: '${field}' is not a DICOM attribute keyword or tag`);
            if (include !== 'all') include.add('known' in resolved ? resolved.known.tag : resolved.tag);
          }
        }
        continue;
    }
    const resolved = resolveAttribute(name);
    if (!resolved) throw new QueryError(`'${name}' is not a query parameter or a DICOM attribute keyword or tag`);
    if (!('known' in resolved) || !resolved.known.match) {
      const label = 'known' in resolved ? resolved.known.keyword : (resolved.keyword ?? resolved.tag);
      throw new QueryError(
        `matching on ${label} is not supported; supported keys: ${KEYS.filter((k) => k.match)
          .map((k) => k.keyword)
          .join(', ')}`,
      );
    }
    const info = resolved.known;
    if (LEVELS.indexOf(info.level) > LEVELS.indexOf(level))
      throw new QueryError(`${info.keyword} is a ${info.level}-level attribute: this ${level} search cannot match on it`);
    if (seen.has(info.tag)) throw new QueryError(`${info.keyword} is given more than once (by keyword and by tag)`);
    seen.add(info.tag);
    const match = matchOf(info, values);
    if (match) matches.push(match);
    if (include !== 'all') include.add(info.tag); // a matching key is also returned (PS3.18 8.3.4.1)
  }
  return { query: { level, matches, limit, offset }, include, warnings };
}
