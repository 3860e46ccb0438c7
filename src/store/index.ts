export { openCatalog } from './catalog.js';
export { openFileStore, instanceRelativePath } from './files.js';
export { openExportOutbox } from './exports.js';
export { openCaseStore } from './cases.js';
export { openStatusReader } from './status-reader.js';
export { openRetention, type Retention, type RetentionPolicy } from './retention.js';
export { openObjectIndex } from './objects.js';
export { backfillObjectIndex } from './objects-backfill.js';
export { openReportStore } from './reports.js';
