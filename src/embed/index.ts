// embed/: DecodedImage -> L2-normalised embedding (+ attention map) with ONNX Runtime in worker threads.
export { loadModelCard, parseModelCard, modelCardSchema, CARD_FILE, MODEL_FILE } from './card.js';
export { checkGraph, type GraphSignature } from './graph.js';
export { preprocess, writeTensor, placement, resize, attentionToImage, l2normalise, tensorLength, type Placement } from './preprocess.js';
export { openModel, validateModel, runTensor, attentionGrid, type RequestedDevice, type OpenedModel, type StageTimes } from './session.js';
export { createEmbedder, type EmbedderOptions, type WorkerEmbedder } from './embedder.js';
