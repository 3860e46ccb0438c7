// ingest/: turns received bytes into durable, catalogued instances. The edges (dimse, dicomweb) call
// only this.
import type { IngestService } from '../shared/types.js';
import type { Catalog } from '../shared/catalog.js';
import type { FileStore } from '../shared/files.js';
import type { Logger } from '../shared/log.js';
import type { StorageConfig } from '../config/schema.js';
import { createReceiver } from './receiver.js';
import { createGroupCommitter } from './group-commit.js';

export { triage } from './triage.js';
export { parseHeader } from './header.js';
export { fileMetaHeader } from './part10.js';
export { readCaseAttributes, caseAttributesOfHeader, type CaseAttributes } from './case-attributes.js';

export interface IngestDeps {
  catalog: Catalog;
  files: FileStore;
  storage: StorageConfig;
  now?: () => number;
}

// The header of a CXR (with a VOI LUT Sequence of 64k entries) fits well within 1 MiB; larger
// headers fall back to reading the file once.
const HEADER_BYTES = 1024 * 1024;
// What a header may hold in memory when it does not fit there (long top-level values skipped), and
// of an inflated data set: far above any real header, far below what a hostile object could make.
const HEADER_BUDGET_BYTES = 16 * 1024 * 1024;

export function createIngest(deps: IngestDeps): IngestService {
  const now = deps.now ?? Date.now;
  // One committer for every association and STOW-RS request of the node: they share its batches.
  const committer = createGroupCommitter({
    catalog: deps.catalog,
    files: deps.files,
    minFreeBytes: deps.storage.minFreeBytes,
    keepIgnored: deps.storage.keepIgnored,
    now,
  });
  return {
    begin: (request, log: Logger) =>
      createReceiver(
        {
          files: deps.files,
          committer,
          log,
          minFreeBytes: deps.storage.minFreeBytes,
          maxInstanceBytes: deps.storage.maxInstanceBytes,
          headerBytes: HEADER_BYTES,
          headerBudget: { headerBytes: Math.min(HEADER_BUDGET_BYTES, deps.storage.maxInstanceBytes), maxInflatedBytes: deps.storage.maxInstanceBytes },
        },
        request,
      ),
  };
}
