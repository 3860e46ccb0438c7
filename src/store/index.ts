export { openCatalog } from './catalog.js';
export { openFileStore, instanceRelativePath } from './files.js';
export { openExportOutbox } from './exports.js';
