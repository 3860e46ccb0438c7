// decode/: Part 10 file -> first frame -> display intensities in [0, 1] for the embedder.
export { createImageDecoder } from './decoder.js';
export { initCodecs } from './codecs.js';
