// Reading numbers out of a dcmjs naturalized data set. dcmjs gives a single value as a scalar and
// several as an array; DS/IS may arrive as strings ("2048 ", "1.5") or numbers depending on the
// reader path, so every numeric attribute goes through these helpers instead of a bare cast.
import { PrecedentError } from '../shared/errors.js';

export type NaturalDataset = Record<string, unknown>;

/** The first value of an attribute as a finite number, or undefined when absent or not numeric. */
export function firstNumber(ds: NaturalDataset, keyword: string): number | undefined {
  const raw = ds[keyword];
  const v = Array.isArray(raw) ? (raw as unknown[])[0] : raw;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** All values of a multi-valued numeric attribute (non-numeric entries dropped). */
export function numbers(ds: NaturalDataset, keyword: string): number[] {
  const raw = ds[keyword];
  const list = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined || raw === null ? [] : [raw];
  return list
    .map((v) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : Number.NaN))
    .filter((n) => Number.isFinite(n));
}

/** The first value of a string attribute, trimmed and upper-cased ('' when absent). */
export function firstCode(ds: NaturalDataset, keyword: string): string {
  const raw = ds[keyword];
  const v = Array.isArray(raw) ? (raw as unknown[])[0] : raw;
  return typeof v === 'string' ? v.trim().toUpperCase() : '';
}

/** An integer attribute that must be present; DECODE_FAILED names the attribute when it is not. */
export function requiredInteger(ds: NaturalDataset, keyword: string): number {
  const n = firstNumber(ds, keyword);
  if (n === undefined || !Number.isInteger(n)) throw new PrecedentError('DECODE_FAILED', `${keyword} is missing or not an integer`);
  return n;
}

/** The first item of a sequence attribute, or undefined. */
export function firstItem(ds: NaturalDataset, keyword: string): NaturalDataset | undefined {
  const raw = ds[keyword];
  const item = Array.isArray(raw) ? (raw as unknown[])[0] : raw;
  return item !== null && typeof item === 'object' && !ArrayBuffer.isView(item) && !(item instanceof ArrayBuffer) ? (item as NaturalDataset) : undefined;
}

/** Reinterprets a 16-bit value read as unsigned (US) as signed (SS): 0xFFFF -> -1. */
export function asSigned16(v: number): number {
  return v >= 0x8000 && v <= 0xffff ? v - 0x10000 : v;
}
