// The grayscale display pipeline of PS3.4 N.2 (stored -> Modality LUT -> VOI LUT -> polarity),
// applied to stored values, plus Pixel Padding. dcmjs-imaging ignores LUT *sequences*, which CR/DX
// carry, so this is our own: each step is a small function in its own file, tested by hand values.
import type { ImageAttributes } from './attributes.js';
import { sharedFloats } from '../shared/analysis.js';
import { parseLut, type Lut } from './lut.js';
import { applyModalityLut, IDENTITY_MODALITY, type ModalityTransform } from './modality.js';
import { blackOutPadding, invertMonochrome1, paddingMask, type PaddingSpec } from './output.js';
import { asSigned16, firstCode, firstItem, firstNumber, numbers, type NaturalDataset } from './values.js';
import { applyVoi, minMax, type VoiLutFunction, type VoiTransform } from './voi.js';

export type VoiChoice = { kind: 'window'; center: number; width: number; fn: VoiLutFunction } | { kind: 'lut'; lut: Lut } | { kind: 'minmax' };

export interface GrayscaleSpec {
  modality: ModalityTransform;
  voi: VoiChoice;
  padding?: PaddingSpec;
  monochrome1: boolean;
  /** What was chosen, for DecodedImage.notes. */
  notes: string[];
}

const VOI_FUNCTIONS = new Set<string>(['LINEAR', 'LINEAR_EXACT', 'SIGMOID']);

function readModality(ds: NaturalDataset, signed: boolean, notes: string[]): ModalityTransform {
  // The two forms are mutually exclusive (C.11.1); a sequence is the more specific one if both are sent.
  const item = firstItem(ds, 'ModalityLUTSequence');
  if (item !== undefined) {
    notes.push('modality LUT: Modality LUT Sequence');
    return { kind: 'lut', lut: parseLut(item, signed) };
  }
  const slope = firstNumber(ds, 'RescaleSlope');
  const intercept = firstNumber(ds, 'RescaleIntercept');
  if (slope === undefined && intercept === undefined) return IDENTITY_MODALITY;
  return { kind: 'rescale', slope: slope === undefined || slope === 0 ? 1 : slope, intercept: intercept ?? 0 };
}

function modalityCanBeNegative(m: ModalityTransform, signed: boolean): boolean {
  if (m.kind === 'lut') return false; // LUT Data is US: its outputs are never negative
  return signed || m.intercept < 0 || m.slope < 0;
}

/**
 * VOI: the VOI LUT Sequence (first item) when present, as it is the curve the vendor intends and
 * often not a straight line; else the first window with its VOI LUT Function; else min/max.
 */
function readVoi(ds: NaturalDataset, negativeInput: boolean, notes: string[]): VoiChoice {
  const item = firstItem(ds, 'VOILUTSequence');
  if (item !== undefined) {
    notes.push('VOI: VOI LUT Sequence item 1');
    return { kind: 'lut', lut: parseLut(item, negativeInput) };
  }
  const center = numbers(ds, 'WindowCenter')[0];
  const width = numbers(ds, 'WindowWidth')[0];
  if (center !== undefined && width !== undefined) {
    const declared = firstCode(ds, 'VOILUTFunction');
    const fn = (VOI_FUNCTIONS.has(declared) ? declared : 'LINEAR') as VoiLutFunction;
    if (declared !== '' && declared !== fn) notes.push(`VOI LUT Function "${declared}" unknown, LINEAR used`);
    // LINEAR needs width >= 1, the others width > 0 (C.11.2.1.2); a broken window is ignored.
    if (fn === 'LINEAR' ? width >= 1 : width > 0) {
      notes.push(`VOI: window ${center}/${width} ${fn}`);
      return { kind: 'window', center, width, fn };
    }
    notes.push(`window width ${width} invalid for ${fn}, ignored`);
  }
  notes.push('VOI: none usable in file, min/max of modality values');
  return { kind: 'minmax' };
}

function readPadding(ds: NaturalDataset, signed: boolean): PaddingSpec | undefined {
  const value = firstNumber(ds, 'PixelPaddingValue');
  if (value === undefined) return undefined;
  // US or SS by PixelRepresentation (C.7.5.1.1.2); implicit VR reads it as US.
  const typed = (v: number): number => (signed ? asSigned16(v) : v);
  const limit = firstNumber(ds, 'PixelPaddingRangeLimit');
  return limit === undefined ? { value: typed(value) } : { value: typed(value), rangeLimit: typed(limit) };
}

/** Everything the grayscale pipeline needs from the data set (throws DECODE_FAILED on bad LUTs). */
export function readGrayscaleSpec(ds: NaturalDataset, attrs: ImageAttributes): GrayscaleSpec {
  const notes: string[] = [];
  const signed = attrs.format.pixelRepresentation === 1;
  const modality = readModality(ds, signed, notes);
  const voi = readVoi(ds, modalityCanBeNegative(modality, signed), notes);
  const padding = readPadding(ds, signed);
  const spec: GrayscaleSpec = { modality, voi, monochrome1: attrs.photometric === 'MONOCHROME1', notes };
  return padding === undefined ? spec : { ...spec, padding };
}

/** Stored values -> display intensities in [0, 1], 0 black; padding pixels 0. */
export function renderGrayscale(stored: Int32Array, spec: GrayscaleSpec): { pixels: Float32Array; notes: string[] } {
  const notes = [...spec.notes];
  const mask = paddingMask(stored, spec.padding);
  const values = applyModalityLut(stored, spec.modality, sharedFloats(stored.length));
  let voi: VoiTransform;
  if (spec.voi.kind === 'minmax') {
    const range = minMax(values, mask);
    voi = { kind: 'minmax', min: range?.min ?? 0, max: range?.max ?? 0 };
  } else {
    voi = spec.voi;
  }
  // Each step writes into the same buffer: a 3000 x 3000 radiograph is 36 MB per copy.
  applyVoi(values, voi, values);
  if (spec.monochrome1) invertMonochrome1(values, values);
  if (mask !== undefined) {
    let count = 0;
    for (const m of mask) count += m;
    notes.push(`pixel padding: ${count} pixels set to 0`);
    blackOutPadding(values, mask, values);
  }
  return { pixels: values, notes };
}
