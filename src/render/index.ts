// render/: an analysed image's result objects (SR, heatmap SC, similar-cases SC) drawn off the event loop.
export { renderResults, type RenderOutput, type RenderRequest, type RenderedResult, type ResultKind } from './render.js';
export { createResultRenderer, type ResultRenderer } from './pool.js';
