// The durable file store contract (implemented by store/files.ts).
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
  absolute(relativePath: string): string;
  remove(relativePathOrTemp: string): void;
  freeBytes(): number;
  /** Deletes leftovers of transfers that never completed (none of them was acknowledged). */
  sweepTemp(): number;
  /** Writes bytes at a path relative to dataDir, durably (temp, fsync, rename, fsync dir). */
  writeDurable(relativePath: string, bytes: Buffer): string;
  exists(relativePath: string): boolean;
}
