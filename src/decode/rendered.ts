// WADO-RS rendered and thumbnail pictures (PS3.18 8.3.5, 9.5): frame 1 as a viewer shows it, through
// the same display pipeline the analysis uses (Modality LUT, VOI LUT or window, MONOCHROME1
// inversion), colour kept (result heatmaps are RGB), fitted into the viewport, as JPEG or PNG.
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { areaResize } from '../shared/area-resize.js';
import type { RenderRequest } from '../shared/pixels.js';
import { COLOUR, readImageAttributes } from './attributes.js';
import { toLuminance } from './color.js';
import { frameSamples, parse } from './decoder.js';
import { readGrayscaleSpec, renderGrayscale } from './grayscale.js';
import { readImageFile } from './raster.js';
import { clampedCodecSamples, unpackSamples } from './unpack.js';

/** RGB planes in [0, 1] from interleaved or planar RGB / YBR_FULL samples. */
function rgbPlanes(bytes: Uint8Array, pixels: number, photometric: string, planar: boolean, bitsAllocated: 8 | 16, bitsStored: number): Float32Array[] {
  const wide = bitsAllocated === 16;
  const max = 2 ** bitsStored - 1;
  const at = (pixel: number, sample: number): number => {
    const i = planar ? sample * pixels + pixel : pixel * 3 + sample;
    return (wide ? (bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8) : (bytes[i] ?? 0)) / max;
  };
  const [r, g, b] = [new Float32Array(pixels), new Float32Array(pixels), new Float32Array(pixels)];
  for (let i = 0; i < pixels; i++) {
    const [c0, c1, c2] = [at(i, 0), at(i, 1), at(i, 2)];
    if (photometric === 'YBR_FULL') {
      // PS3.3 C.7.6.3.1.2 (BT.601 full range).
      r[i] = c0 + 1.402 * (c2 - 0.5);
      g[i] = c0 - 0.344136 * (c1 - 0.5) - 0.714136 * (c2 - 0.5);
      b[i] = c0 + 1.772 * (c1 - 0.5);
    } else {
      [r[i], g[i], b[i]] = [c0, c1, c2];
    }
  }
  return [r, g, b];
}

/** The size that fits width x height into the viewport, aspect kept (its own size without one). */
export function fitViewport(width: number, height: number, viewport: RenderRequest['viewport']): { width: number; height: number } {
  if (!viewport) return { width, height };
  const scale = Math.min(viewport.width / width, viewport.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export async function renderFile(request: RenderRequest): Promise<Uint8Array> {
  const p = parse(await readImageFile(request.path));
  const attrs = readImageAttributes(p.dataset);
  const frame = await frameSamples(p, attrs);
  const pixels = attrs.rows * attrs.columns;
  let planes: Float32Array[];
  if (COLOUR.has(frame.photometric) || attrs.samplesPerPixel === 3) {
    const full = pixels * 3 * (attrs.format.bitsAllocated / 8);
    const whole = frame.bytes.byteLength >= full;
    const photometric = whole && frame.photometric.endsWith('_422') ? 'YBR_FULL' : frame.photometric;
    planes =
      whole && (photometric === 'RGB' || photometric === 'YBR_FULL' || photometric === 'YBR_ICT' || photometric === 'YBR_RCT')
        ? rgbPlanes(frame.bytes, pixels, photometric, frame.planarConfiguration === 1, attrs.format.bitsAllocated, attrs.format.bitsStored)
        : // Native 4:2:2 and partial-range YBR: shown as their luminance.
          [
            toLuminance(frame.bytes, pixels, {
              photometric,
              planarConfiguration: frame.planarConfiguration,
              bitsAllocated: attrs.format.bitsAllocated,
              bitsStored: attrs.format.bitsStored,
            }),
          ];
  } else {
    const unpack = frame.clamp ? clampedCodecSamples : unpackSamples; // JPEG 2000 overshoot, as the analysis decoder
    planes = [renderGrayscale(unpack(frame.bytes, pixels, attrs.format), readGrayscaleSpec(p.dataset, attrs)).pixels];
  }
  const { width, height } = fitViewport(attrs.columns, attrs.rows, request.viewport);
  const sized = width === attrs.columns && height === attrs.rows ? planes : planes.map((c) => areaResize(c, attrs.columns, attrs.rows, width, height));
  const rgba = Buffer.alloc(width * height * 4);
  const byte = (v: number | undefined): number => Math.round(Math.min(1, Math.max(0, v ?? 0)) * 255);
  for (let i = 0; i < width * height; i++) {
    rgba[4 * i] = byte(sized[0]?.[i]);
    rgba[4 * i + 1] = byte((sized[1] ?? sized[0])?.[i]);
    rgba[4 * i + 2] = byte((sized[2] ?? sized[0])?.[i]);
    rgba[4 * i + 3] = 255;
  }
  if (request.format === 'png') {
    const png = new PNG({ width, height });
    rgba.copy(png.data);
    return new Uint8Array(PNG.sync.write(png, { colorType: sized.length === 1 ? 0 : 2 }));
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width, height }, request.quality ?? 90).data);
}
