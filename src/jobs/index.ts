export { createStudyScheduler, studyJobHandler, type StudyScheduler, type StudySchedulerDeps, type StudyAnalysis } from './study-scheduler.js';
export { createStudyEmbedding, downsampleAttention, STORED_ATTENTION_SIZE, type StudyAnalysisDeps, type StudyEmbedding } from './analyze-study.js';
export { createResultStage, resultPath, type ResultStageDeps, type RenderedObject } from './results-stage.js';
export { remoteEmbedHandler, type RemoteEmbedDeps } from './remote-embed.js';
export { createResultApplier, failAbandonedStudies, type ApplyResultDeps } from './apply-result.js';
