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

/** A file being received into (FileStore.openReceivingFile). */
export interface ReceivingFile {
  fd: number;
  /** Relative to dataDir when `placed`; else an absolute temporary path. */
  path: string;
  /** The file is already where it stays; otherwise it is moved into place at commit. */
  placed: boolean;
  /** Settles once the file's directory entry (and any folder made for it) is durable. */
  entryDurable: Promise<void>;
}

export interface FileStore {
  readonly dataDir: string;
  /** A fresh temporary path on the same file system as the store (rename is atomic only there). */
  tempPath(): string;
  /**
   * Creates the file a received object is written into, opened asynchronously (off the event loop).
   * With a valid SOP Instance UID it is created where it stays, in the day's folder (no rename, no
   * directory fsync after the transfer: that fsync runs while the object is still arriving); without
   * one (STOW-RS, where the UID is known only from the data set) it is a temporary file, moved at commit.
   */
  openReceivingFile(SOPInstanceUID?: string): Promise<ReceivingFile>;
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
  /**
   * Deletes files in the day folders changed since `since` (ms) that the catalog does not list:
   * objects created in place whose transfer or commit a crash interrupted (never acknowledged).
   */
  sweepUncatalogued(catalogued: (SOPInstanceUID: string, path: string) => boolean, since: number): number;
  /** Writes bytes at a path relative to dataDir, durably (temp, fsync, rename, fsync dir). */
  writeDurable(relativePath: string, bytes: Buffer): string;
  exists(relativePath: string): boolean;
  /** Closes the directory handles kept for syncDirectories. */
  close(): void;
}
