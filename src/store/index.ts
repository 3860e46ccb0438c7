export { openCatalog } from './catalog.js';
export { openFileStore, instanceRelativePath } from './files.js';
