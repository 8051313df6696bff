/**
 * The storage interface every datastore backend implements (LMDB on disk, S3). Everything
 * above it (content addressing, chunking, the commit protocol, metadata layout, the client)
 * is written once against this interface; nothing outside a backend's own file may know
 * which backend it is talking to.
 *
 * Two kinds of things are stored:
 * - blobs: immutable bytes named by the hash of their content. Writing a blob that exists
 *   is a no-op, so concurrent writers never conflict.
 * - records: small JSON-able values under `/`-separated keys (run and task metadata, logs,
 *   done-markers). `putRecords` writes in the order given; a backend that can make the
 *   batch atomic (LMDB: one transaction) does, the others write sequentially so the last
 *   record of a batch (a done-marker) is visible only after the ones before it. A value
 *   JSON cannot represent fails the whole batch before anything is written.
 *
 * test/support/storage-backend-contract.ts checks every promise made here, on every backend.
 */
import type { FileBytes, StoredFile } from "./file-digest.js";

export interface StorageBackend {
  /** `local` or `s3`: shown to users, never branched on by callers. */
  readonly kind: string;
  /** Where the data lives, for messages (`/home/a/.flowrun`, `s3://bucket/prefix`). */
  readonly location: string;

  hasBlob(hash: string): Promise<boolean>;
  /** Stores bytes under their hash; a no-op when the blob already exists. */
  putBlob(hash: string, bytes: Uint8Array): Promise<void>;
  /**
   * The largest blob `putBlob` takes; larger artifacts are stored as chunks of
   * ContentStore's CHUNK_BYTES. Absent: CHUNK_BYTES (S3, where parts are wanted anyway).
   */
  readonly maxBlobBytes?: number;
  /** The blob's bytes, or undefined when it does not exist. */
  getBlob(hash: string): Promise<Uint8Array | undefined>;

  /**
   * Stores a file's bytes as they stream in (`current.files`), named like a blob by their
   * SHA-256 and never whole in memory. Bytes the datastore has already are not stored (on
   * S3: not uploaded) again.
   */
  putFile(source: FileBytes): Promise<StoredFile>;
  /**
   * A local file holding a stored file's bytes, checked against their hash: on disk, the
   * datastore's own read-only copy; on S3, a cached download. Undefined when the datastore
   * does not have it (or has it with another size).
   * @throws DatastoreError when the stored bytes are damaged.
   */
  localFile(hash: string, size: number): Promise<string | undefined>;

  /** @throws DatastoreError naming the record when a value is not JSON-serialisable (nothing written). */
  putRecords(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void>;
  /** The value written (null included), or undefined when the record does not exist. */
  getRecord<T = unknown>(key: string): Promise<T | undefined>;
  /**
   * `getRecord` of each key, in order: a join reads its thousands of parents' records at once
   * (LMDB in one snapshot, without a promise each; S3 concurrently).
   */
  getRecords<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>>;
  /**
   * The keys of every record starting with `prefix` (a plain string prefix, not a path
   * segment), in JS string order, as `Array.prototype.sort` gives (no values read).
   */
  listKeys(prefix: string): Promise<string[]>;
  /** Every record whose key starts with `prefix`, in `listKeys` order. */
  listRecords<T = unknown>(prefix: string): Promise<Array<{ key: string; value: T }>>;
  /**
   * Every record whose key starts with `prefix`, in key order, read as the caller iterates:
   * only a few values are held at a time, whatever the number and size of the records (a
   * 100 MB log). Keys come in the order the store lists them (the bytes of their UTF-8),
   * which is `listKeys` order but between characters above U+FFFF and U+E000-U+FFFF.
   */
  iterateRecords<T = unknown>(prefix: string): AsyncIterable<{ key: string; value: T }>;
  /** A no-op when the record does not exist. */
  deleteRecord(key: string): Promise<void>;
  /**
   * Writes `record` and deletes `oldKey` (a no-op if absent). Atomic where the backend has
   * transactions (LMDB); elsewhere the write comes first, so a reader may see both records
   * for a moment but never neither.
   */
  replaceRecord(oldKey: string, record: { key: string; value: unknown }): Promise<void>;

  close(): Promise<void>;

  /**
   * Present when blobs can be read without awaiting (LMDB: memory-mapped). Artifact getters
   * in step code are synchronous: with this they read straight from the backend; without
   * it a task downloads its inputs' bytes before the step starts (ContentStore.prefetch).
   */
  readonly syncReads?: SyncBlobReader;
}

export interface SyncBlobReader {
  /**
   * Copies the blob's bytes into `target` from `offset` and returns how many there were, or
   * undefined when the blob does not exist. One copy, into memory the caller owns: a 100 MB
   * artifact is read straight into the buffer its typed array will use.
   * @throws DatastoreError when the blob does not fit (it and its artifact disagree) or its
   * stored bytes are damaged (a backend that can tell: LMDB's blob files).
   */
  readBlobInto(hash: string, target: Uint8Array, offset: number): number | undefined;
}
