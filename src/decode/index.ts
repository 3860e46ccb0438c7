// decode/: Part 10 file -> first frame -> display intensities in [0, 1] for the embedder.
export { createImageDecoder } from './decoder.js';
// Optional warm-up (a worker can load the WebAssembly codecs before its first job); decoding
// loads them on first use anyway.
export { initCodecs } from './codecs.js';
// JPEG Baseline for the Secondary Captures (report/ takes the encoder as a plain function).
export { createJpegBaselineEncoder, type JpegBaselineEncoder } from './jpeg-encode.js';
// PNG / JPEG files (exports, research sets; `precedent eval`) to the same DecodedImage.
export { decodeRasterFile, decodeRaster, isRasterFile, rasterFormat, type RasterFormat } from './raster.js';
// The same decoder on worker threads, for the node (decoding never holds up its event loop).
export { createDecoderPool, type DecoderPool } from './pool.js';
export { rememberDecoded, type RecentImages } from './recent.js';
export { caseThumbnail, thumbnailImage } from './thumbnail.js';
// WADO-RS pixels (frames, transcoding, rendered pictures) on decoding threads started on first use.
export { createPixelPool, type PixelPool } from './pixel-jobs.js';
