/**
 * The embedded local datastore: one LMDB environment (a directory holding data.mdb and
 * lock.mdb) with a `blobs` database (content-addressed bytes under FILE_BLOB_BYTES), a
 * `blobFiles` database (the size and checksum of each larger blob, whose bytes are a file
 * `blobs/<ab>/<hash>` beside data.mdb: blob-files.ts) and a `records` database (JSON
 * metadata). LMDB gives the commit protocol for free: a `putRecords` batch is one
 * transaction, and a process killed mid-transaction leaves only whole transactions.
 * Several threads and processes may open the same directory at once.
 *
 * Durability: commits do not wait for the disk (`noSync`). A sequential fsync cost 7-9 ms
 * per commit on a busy disk, several times the whole per-task budget of a large foreach.
 * The data file is flushed instead at most once per SYNC_INTERVAL_MS while there are
 * writes, and on close. A killed process loses nothing committed (the OS has the pages);
 * an OS crash can lose the last second of commits (see COMMIT-PROTOCOL.md). Blob files are
 * flushed before LMDB records them, so a record never names a file that is not on disk.
 */
import { accessSync, closeSync, constants, existsSync, fdatasyncSync, mkdirSync, openSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Database, RootDatabase } from "lmdb";
import { lmdb } from "./commonjs-packages.js";
import { ENV_VARS } from "../../src/core/config.js";
import { DatastoreError } from "../../src/core/errors.js";
import { BlobFiles, blobTooLarge, FILE_BLOB_BYTES, type BlobFileEntry } from "./blob-files.js";
import { warnIfLmdbUnpatched } from "./lmdb-addon.js";
import { checkedLmdbFileProblems } from "./lmdb-file-check.js";
import { filePieces, sourceError, type FileBytes, type StoredFile } from "./file-digest.js";
import { encodeRecord } from "./record-json.js";
import type { StorageBackend, SyncBlobReader } from "./storage-backend.js";
import { localWriteFailure } from "./write-failure.js";

const { asBinary, open } = lmdb;

const SYNC_INTERVAL_MS = 1000;

/** Larger values fail to commit (measured: 2047 MiB commits, 2049 MiB does not); callers chunk below this. */
export const LMDB_MAX_VALUE_BYTES = 2047 * 1024 * 1024;

/** How long a 0-byte data.mdb may stay empty while another process is creating it. */
const EMPTY_FILE_GRACE_MS = 300;

/**
 * lmdb-js trusts data.mdb: a corrupt meta page crashes it (SIGSEGV), a truncated file
 * kills the process with SIGBUS, a garbage tree page aborts it (`IS_LEAF(mp)`). So the
 * file is checked before `open` (lmdb-file-check.ts says what is and is not caught).
 *
 * A 0-byte data.mdb: LMDB writes its two meta pages within the `open` that creates the
 * file, so an empty one is either being created by another process this instant, or
 * cut to nothing (a copy that failed, a full disk, `: > data.mdb`). It is given a moment
 * to fill, then reported: its runs, if it had any, are gone.
 */
function assertLmdbDataFile(location: string): void {
  const file = join(location, "data.mdb");
  if (!existsSync(file)) return; // a new datastore: LMDB creates the file
  for (let waited = 0; statSync(file).size === 0 && waited < EMPTY_FILE_GRACE_MS; waited += 50) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  const problems = checkedLmdbFileProblems(location);
  if (problems.length === 0) return;
  const empty = statSync(file).size === 0;
  throw new DatastoreError(`local datastore ${location} is corrupt: ${file}: ${problems[0]}`, {
    hint: `restore ${file} from a copy (\`flowrun datastore backup\` makes one)${empty ? `; if this datastore never held runs, delete ${file}` : ""}, or point --datastore-root / ${ENV_VARS.datastoreRoot.name} elsewhere`,
  });
}

/**
 * A record as the bytes lmdb-js's `json` encoding writes, encoded before the transaction as
 * S3 does: a value JSON cannot represent is then refused naming its record, where lmdb-js
 * threw from inside the commit ("Cannot read properties of undefined") and the message
 * blamed the datastore's disk.
 */
function encodedRecord(key: string, value: unknown) {
  return asBinary(Buffer.from(encodeRecord(key, value)));
}

export class LmdbBackend implements StorageBackend {
  readonly kind = "local";
  private readonly root: RootDatabase;
  private readonly blobs: Database<Uint8Array, string>;
  private readonly blobFiles: Database<BlobFileEntry, string>;
  private readonly files: BlobFiles;
  private readonly records: Database<unknown, string>;
  /** A blob file has no size limit: artifacts are never chunked here. */
  readonly maxBlobBytes = Number.MAX_SAFE_INTEGER;
  private syncTimer: NodeJS.Timeout | undefined;
  private flushFailure: unknown;

  /** `checkFile: false`: this process has the environment open already, its file checked then. */
  constructor(readonly location: string, { checkFile = true } = {}) {
    try {
      mkdirSync(location, { recursive: true });
      accessSync(location, constants.W_OK);
      if (checkFile) assertLmdbDataFile(location);
      warnIfLmdbUnpatched();
      // noSubdir: false — lmdb-js would treat a directory named like "results.v2" as a file.
      this.root = open({ path: location, compression: false, noSubdir: false, noSync: true });
      this.blobs = this.root.openDB({ name: "blobs", encoding: "binary" });
      this.blobFiles = this.root.openDB({ name: "blobFiles", encoding: "json" });
      this.files = new BlobFiles(location);
      this.records = this.root.openDB({ name: "records", encoding: "json" });
    } catch (error) {
      if (error instanceof DatastoreError) throw error;
      const code = (error as { code?: string }).code;
      const reason = code === "EACCES" || code === "EROFS" ? "is not writable" : `cannot be opened (${(error as Error).message})`;
      throw new DatastoreError(`local datastore ${location} ${reason}`, {
        hint: `fix its permissions, or point --datastore-root / ${ENV_VARS.datastoreRoot.name} at another directory`,
        cause: error,
      });
    }
  }

  async hasBlob(hash: string): Promise<boolean> {
    if (this.blobs.doesExist(hash)) return true;
    const entry = this.blobFiles.get(hash);
    return entry !== undefined && this.files.exists(hash, entry.size);
  }

  async putBlob(hash: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength < FILE_BLOB_BYTES) {
      if (this.blobs.doesExist(hash)) return;
      await this.guard(() => this.blobs.put(hash, bytes));
      return;
    }
    if (await this.hasBlob(hash)) return;
    // The file is on disk (flushed, renamed, its directory flushed) before LMDB records it.
    const entry = await this.guard(() => this.files.write(hash, bytes));
    await this.guard(() => this.blobFiles.put(hash, entry));
  }

  async getBlob(hash: string): Promise<Uint8Array | undefined> {
    const inline = this.blobs.get(hash);
    if (inline) return inline;
    const entry = this.blobFiles.get(hash);
    if (!entry) return undefined;
    const bytes = new Uint8Array(entry.size);
    return this.files.readInto(hash, entry, bytes, 0) === undefined ? undefined : bytes;
  }

  /** A streamed file is a blob file like a large artifact's: verify and backup treat both alike. */
  async putFile(source: FileBytes): Promise<StoredFile> {
    const chunks = "path" in source ? filePieces(source.path) : source.stream;
    try {
      const { hash, entry, added } = await this.guard(() => this.files.writeStream(chunks, (hash, size) => this.blobFiles.get(hash)?.size === size && this.files.exists(hash, size)));
      if (added) await this.guard(() => this.blobFiles.put(hash, entry));
      return { hash, size: entry.size };
    } catch (error) {
      throw sourceError(error)?.error ?? error;
    }
  }

  async localFile(hash: string, size: number): Promise<string | undefined> {
    this.freshSnapshot();
    const entry = this.blobFiles.get(hash);
    return entry?.size === size ? this.files.verified(hash, entry) : undefined;
  }

  /** LMDB reads are memory-mapped, file reads synchronous: lazy artifact getters read directly. */
  readonly syncReads: SyncBlobReader = { readBlobInto: (hash, target, offset) => this.readBlobInto(hash, target, offset) };

  private readBlobInto(hash: string, target: Uint8Array, offset: number): number | undefined {
    const view = this.readBlobTransient(hash);
    if (view) {
      if (offset + view.byteLength > target.byteLength) throw blobTooLarge(hash, view.byteLength, target.byteLength - offset);
      target.set(view, offset);
      return view.byteLength;
    }
    const entry = this.blobFiles.get(hash);
    return entry && this.files.readInto(hash, entry, target, offset);
  }

  /** A blob held in data.mdb, valid only until the next read on this thread (lmdb-js reuses the buffer). */
  readBlobTransient(hash: string): Uint8Array | undefined {
    const view = this.blobs.getBinaryFast(hash) as (Buffer & { isGlobal?: boolean }) | undefined;
    // Small values come back in lmdb-js's shared buffer; `lastSize` says how much is this value.
    return view?.isGlobal ? view.subarray(0, (this.blobs as unknown as { lastSize: number }).lastSize) : view;
  }

  /** Every blob's hash in data.mdb, in key order (a read snapshot: blobs written meanwhile may be missed). */
  blobHashes(): Iterable<string> {
    this.freshSnapshot();
    return this.blobs.getKeys();
  }

  /** Every blob file LMDB has recorded, with what was recorded (a read snapshot). */
  *blobFileEntries(): Iterable<{ hash: string; entry: BlobFileEntry }> {
    this.freshSnapshot();
    for (const { key, value } of this.blobFiles.getRange()) yield { hash: key, entry: value };
  }

  /** The files of recorded blobs: what verify reads, and what a backup copies. */
  get blobFileStore(): BlobFiles {
    return this.files;
  }

  /**
   * A consistent copy (one read snapshot, free pages left out) as `dir`/data.mdb, and every
   * blob file it records as `dir`/blobs/...; `dir` must exist and be empty. Writers are not
   * held up while it is made. Files are copied after the snapshot: every file it records was
   * on disk before it was recorded, so none is missing (later ones may be copied too).
   */
  async backup(dir: string): Promise<void> {
    await this.root.backup(dir, true);
    const copies = new BlobFiles(dir);
    let copied = 0;
    for (const { hash } of this.blobFileEntries()) {
      // A file already missing here is missing in the copy too, and verify says so in both.
      if (this.files.copyTo(hash, copies)) copied++;
    }
    if (copied > 0) copies.syncAll();
  }

  /**
   * A child transaction, not lmdb-js's `transaction`: the latter runs the callback inside a
   * shared batch and commits whatever it put before throwing (a key over LMDB's size limit
   * left the batch's earlier records written). Measured: no cost difference.
   */
  async putRecords(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> {
    const encoded = records.map(({ key, value }) => ({ key, bytes: encodedRecord(key, value) }));
    await this.guard(() =>
      this.records.childTransaction(() => {
        for (const { key, bytes } of encoded) this.records.put(key, bytes);
      }),
    );
  }

  async getRecord<T>(key: string): Promise<T | undefined> {
    this.freshSnapshot();
    return this.records.get(key) as T | undefined;
  }

  async getRecords<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    this.freshSnapshot();
    return keys.map((key) => this.records.get(key) as T | undefined);
  }

  /**
   * lmdb-js keeps a thread's read transaction open between reads; a long-lived worker
   * thread would keep seeing the snapshot from before the scheduler committed the task it
   * is about to read. Records are read at task boundaries, so renewing here is cheap.
   */
  private freshSnapshot(): void {
    this.root.resetReadTxn();
  }

  /*
   * LMDB iterates in UTF-8 byte order; listings promise JS string order, as S3's does. The
   * two differ only between characters above U+FFFF and U+E000-U+FFFF (`𝒜` and `Ａ`), so
   * the sort below finds the array in order nearly always: one linear pass.
   */
  async listRecords<T>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    const out: Array<{ key: string; value: T }> = [];
    this.freshSnapshot();
    for (const { key, value } of this.records.getRange({ start: prefix })) {
      if (!key.startsWith(prefix)) break;
      out.push({ key, value: value as T });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The range holds one read transaction (a consistent snapshot) until the iteration ends. */
  async *iterateRecords<T>(prefix: string): AsyncGenerator<{ key: string; value: T }> {
    this.freshSnapshot();
    for (const { key, value } of this.records.getRange({ start: prefix })) {
      if (!key.startsWith(prefix)) break;
      yield { key, value: value as T };
    }
  }

  async listKeys(prefix: string): Promise<string[]> {
    this.freshSnapshot();
    const out: string[] = [];
    for (const key of this.records.getKeys({ start: prefix })) {
      if (!key.startsWith(prefix)) break;
      out.push(key);
    }
    return out.sort(); // JS string order: see listRecords
  }

  async deleteRecord(key: string): Promise<void> {
    await this.guard(() => this.records.remove(key));
  }

  async replaceRecord(oldKey: string, record: { key: string; value: unknown }): Promise<void> {
    const bytes = encodedRecord(record.key, record.value);
    await this.guard(() =>
      this.records.childTransaction(() => {
        this.records.remove(oldKey);
        this.records.put(record.key, bytes);
      }),
    );
  }

  async close(): Promise<void> {
    clearTimeout(this.syncTimer);
    try {
      this.sync();
    } catch (error) {
      throw localWriteFailure(this.location, error);
    } finally {
      await this.root.close();
    }
  }

  /** Flushes the data file to disk (the writes of every thread and process using it). */
  sync(): void {
    this.syncTimer = undefined;
    const fd = openSync(join(this.location, "data.mdb"), "r");
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private async guard<T>(write: () => Promise<T>): Promise<T> {
    if (this.flushFailure) {
      // Commits since the failed flush may not be on disk: the next write says so once.
      const failure = this.flushFailure;
      this.flushFailure = undefined;
      throw localWriteFailure(this.location, failure);
    }
    this.syncTimer ??= setTimeout(() => this.flushInBackground(), SYNC_INTERVAL_MS).unref();
    try {
      return await write();
    } catch (error) {
      // A failed commit rejects each of its writes with a generic "Commit failed" whose
      // `commitError` is a promise rejecting with LMDB's reason (EIO, ENOSPC...); left
      // unawaited, that rejection kills the thread (a worker: the whole run).
      const commitError = (error as { commitError?: Promise<unknown> }).commitError;
      const reason = commitError ? await commitError.then(() => error, (e: unknown) => e) : error;
      throw localWriteFailure(this.location, reason);
    }
  }

  private flushInBackground(): void {
    try {
      this.sync();
    } catch (error) {
      this.flushFailure = error;
    }
  }
}
