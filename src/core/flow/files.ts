/**
 * `current.files`: data too big for an artifact (more than fits in memory, or not worth
 * serialising) streamed into the datastore as a file, named by the SHA-256 of its bytes.
 * What a step keeps is a `FileRef`, a plain-data artifact like any other: it goes through
 * foreach, joins, `mergeArtifacts` and resume unchanged, and always names the same bytes.
 * The runtime installs the implementation (runtime/datastore/file-store.ts) in each worker.
 */
import type { Readable } from "node:stream";

/** A file stored with `current.files.put`: what an artifact keeps of it. */
export interface FileRef {
  /** The name it was put with (the source file's base name by default); for people and `flowrun dump --file`. */
  name: string;
  /** Its size in bytes. */
  size: number;
  /** The SHA-256 of its bytes, in hex: the file's identity in the datastore. */
  hash: string;
}

/** What `current.files.put` streams: a local file's path, or the bytes as they come. */
export type FileSource = string | URL | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

export interface PutFileOptions {
  /** The ref's name; by default the source file's base name, or `file` for a stream. */
  name?: string;
}

export interface TaskFiles {
  /**
   * Streams the bytes into the datastore (never whole in memory) and returns their ref. The
   * same bytes put again are stored once, and not uploaded again.
   */
  put(source: FileSource, options?: PutFileOptions): Promise<FileRef>;
  /**
   * A local path holding the file's bytes, checked against its hash. Read-only: on the local
   * datastore it is the datastore's own copy; on S3, a cached download shared by every task
   * on the machine.
   */
  path(ref: FileRef): Promise<string>;
  /** The file's bytes as a stream (through `path`). */
  open(ref: FileRef): Readable;
}

const TASK_FILES = Symbol.for("flowrun.taskFiles");
type Holder = { [TASK_FILES]?: TaskFiles };

/** Set by the worker once it has opened its run's datastore. */
export function setTaskFiles(files: TaskFiles): void {
  (globalThis as Holder)[TASK_FILES] = files;
}

export function taskFiles(): TaskFiles {
  const files = (globalThis as Holder)[TASK_FILES];
  if (!files) throw new Error("`current.files` is only available while a flowrun task runs");
  return files;
}

/** True for a value shaped like a FileRef (what `flowrun dump --file` looks for among a task's artifacts). */
export function isFileRef(value: unknown): value is FileRef {
  if (typeof value !== "object" || value === null) return false;
  const { name, size, hash } = value as Partial<FileRef>;
  return typeof name === "string" && Number.isSafeInteger(size) && size! >= 0 && typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash);
}
