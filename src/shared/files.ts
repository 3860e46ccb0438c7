// The durable file store contract (implemented by store/files.ts).

/**
 * Modes of what the node stores: received objects, results and the catalog hold patient data, so
 * the node's user and group read them (backups, an operators' group), nobody else, whatever the umask.
 */
export const PHI_FILE_MODE = 0o640;
export const PHI_DIR_MODE = 0o750;
export interface InstancePlace {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
  version: number;
}

export interface FileStore {
  readonly dataDir: string;
  /** A fresh temporary path on the same file system as the store (rename is atomic only there). */
  tempPath(): string;
  /** Moves a fsynced temp file to its final place; returns the path relative to dataDir. */
  commit(tempFile: string, place: InstancePlace): string;
  /**
   * Moves a fsynced temp file to its final place without syncing directories: returns the path
   * relative to dataDir and the directories whose entries changed, for one syncDirectories per batch.
   */
  move(tempFile: string, place: InstancePlace): { path: string; dirs: string[] };
  /** fsyncs each directory once, in parallel, off the event loop (through handles kept open). */
  syncDirectories(dirs: Iterable<string>): Promise<void>;
  absolute(relativePath: string): string;
  remove(relativePathOrTemp: string): void;
  freeBytes(): number;
  /** Deletes leftovers of transfers that never completed (none of them was acknowledged). */
  sweepTemp(): number;
  /** Writes bytes at a path relative to dataDir, durably (temp, fsync, rename, fsync dir). */
  writeDurable(relativePath: string, bytes: Buffer): string;
  exists(relativePath: string): boolean;
  /** Closes the directory handles kept for syncDirectories. */
  close(): void;
}
