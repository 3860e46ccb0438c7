// The images the analysis has just decoded, kept for the results step of the same job: drawing the
// heatmap needs the same radiograph, and decoding it again costs as much as the first time (about
// 1.1 s for a full-size JPEG 2000 radiograph on one core here). Bounded by bytes, oldest dropped first;
// an image is handed over at most once (take), so nothing outlives its job for long.
import type { DecodedImage, ImageDecoder } from '../shared/analysis.js';

export interface RecentImages {
  /** Decodes through `decoder` and keeps the result under its path. */
  readonly decoder: ImageDecoder;
  /** The image decoded from `path`, if still kept; it is no longer kept afterwards. */
  take(path: string): DecodedImage | undefined;
  /** Bytes of pixels kept now. */
  readonly bytes: number;
}

export function rememberDecoded(decoder: ImageDecoder, budgetBytes: number): RecentImages {
  // Map iteration order is insertion order: the first key is the oldest.
  const kept = new Map<string, DecodedImage>();
  let bytes = 0;
  const drop = (path: string): DecodedImage | undefined => {
    const image = kept.get(path);
    if (image) {
      kept.delete(path);
      bytes -= image.pixels.byteLength;
    }
    return image;
  };
  return {
    decoder: {
      async decodeFile(path: string): Promise<DecodedImage> {
        const image = await decoder.decodeFile(path);
        drop(path);
        if (image.pixels.byteLength <= budgetBytes) {
          kept.set(path, image);
          bytes += image.pixels.byteLength;
          for (const oldest of kept.keys()) {
            if (bytes <= budgetBytes) break;
            drop(oldest);
          }
        }
        return image;
      },
    },
    take: drop,
    get bytes() {
      return bytes;
    },
  };
}
