/**
 * The local datastore's large blobs, as files beside LMDB: `<datastore>/blobs/<ab>/<hash>`
 * holds exactly the blob's bytes (so `sha256sum` of a file prints its name). LMDB copies a
 * value through its own dirty pages into data.mdb, and a 100 MB value freed on replacement
 * leaves a free list LMDB then carries; a file is copied from the caller's buffer and
 * into the reader's, with no other copy of the whole (through a small buffer that stays in
 * the CPU's cache: PIECE_BYTES).
 *
 * This module knows files only; lmdb-backend.ts decides which blobs are files and records
 * each one (its size and checksum) in LMDB once the file is durable. A file is written to
 * `blobs/tmp/<hash>.<pid>.<random>.tmp`, flushed (fdatasync), renamed to its name and the
 * directory flushed: a crash leaves a whole file under the blob's name or none, and at most
 * a temporary file, which nothing reads and which a later writer removes once its process
 * is gone.
 *
 * Reads check the size against the record and a CRC-32 of the bytes (zlib's, ~0.2 ms per
 * MB, done on each piece as it is read): a truncated or changed file fails the read rather
 * than giving a wrong value. SHA-256 would cost ~0.6 ms per MB, more than the read itself
 * on a fast disk; `flowrun datastore verify` re-hashes every file in full.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync, copyFileSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync,
  rmSync, statSync, writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { DatastoreError } from "../../src/core/errors.js";
import { asBytes, crc32, filePieces } from "./file-digest.js";
import { processExists } from "./process-exists.js";

/** Blobs this size and larger are files. Measured here: at 4 MiB a file (with its fsyncs) is written in 2/3 of LMDB's time, at 64 MiB 3/5; at 1 MiB they tie. */
export const FILE_BLOB_BYTES = 4 * 1024 * 1024;
/**
 * Every read and write goes through one buffer of this size that stays in the CPU's cache:
 * the CRC is taken there, and the copy to or from the artifact's own buffer is made by
 * user code, so the kernel never touches the artifact's pages. On the bench's VM (2 cores,
 * memory costly to map) that was 5-10x faster for 100 MB: the kernel reading pages a step
 * had filled cost ~2.5 us a page (write() straight from a 100 MB array: ~250 ms, through
 * this buffer: ~30 ms), and pages the kernel had filled cost ~6 us each at their first
 * touch from user code. Elsewhere the extra copy from cache costs ~10 ms per 100 MB.
 */
const PIECE_BYTES = 1024 * 1024;
/** While a file is written, its first bytes are flushed in the background every this many bytes: the final fdatasync then has little left (measured: 60-100 ms per 100 MB alone). */
const FLUSH_EVERY_BYTES = 16 * 1024 * 1024;
/** A temporary file of a dead process is removed once it is this old (a pid seen from another pid namespace may look dead). */
const STALE_TEMP_MS = 10 * 60 * 1000;
const BLOB_HASH = /^[0-9a-f]{64}$/;
const TEMP_NAME = /^(?:[0-9a-f]{64}|stream)\.(\d+)\.[0-9a-f]+\.tmp$/;

/** What LMDB records about a blob file, written once the file is durable. */
export interface BlobFileEntry {
  size: number;
  /** CRC-32 of the bytes; absent when written by a Node without zlib.crc32. */
  crc32?: number;
}

export class BlobFiles {
  readonly dir: string;
  private readonly tempDir: string;
  private tempsSwept = false;
  /** The buffer every read and write goes through (PIECE_BYTES), made on first use. */
  private scratch: Buffer | undefined;
  /** Files checked whole by `verified` in this process, as `hash:inode:size:mtime`: a file replaced or touched since is checked again. */
  private readonly checked = new Set<string>();

  constructor(datastore: string) {
    this.dir = join(datastore, "blobs");
    this.tempDir = join(this.dir, "tmp");
  }

  path(hash: string): string {
    if (!isBlobHash(hash)) throw new DatastoreError(`invalid blob hash ${JSON.stringify(hash)}`);
    return join(this.dir, hash.slice(0, 2), hash);
  }

  /** True when the blob's file is there with the size it was written with. */
  exists(hash: string, size: number): boolean {
    return statSync(this.path(hash), { throwIfNoEntry: false })?.size === size;
  }

  /**
   * Writes the file durably (temporary file, fdatasync, rename, directory fsync) and says
   * what to record. An existing file of that name is replaced, never trusted: only a record
   * in LMDB vouches for a file. Errors are the file system's own (ENOSPC, EIO...).
   */
  async write(hash: string, bytes: Uint8Array): Promise<BlobFileEntry> {
    const path = this.path(hash);
    ensureDirectory(this.tempDir);
    ensureDirectory(dirname(path));
    this.sweepTemps();
    const temp = join(this.tempDir, `${hash}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const fd = openSync(temp, "wx");
    let open = true;
    let flushing: Promise<void> | undefined;
    try {
      let crc = 0;
      for (let done = 0, flushed = 0; done < bytes.byteLength; ) {
        // Filled, checksummed and written in one synchronous step: the buffer is shared.
        const piece = this.piece(Math.min(PIECE_BYTES, bytes.byteLength - done));
        piece.set(bytes.subarray(done, done + piece.byteLength));
        if (crc32) crc = crc32(piece, crc);
        for (let at = 0; at < piece.byteLength; ) at += writeSync(fd, piece, at, piece.byteLength - at, done + at);
        done += piece.byteLength;
        if (done - flushed >= FLUSH_EVERY_BYTES) {
          flushed = done;
          await flushing; // one flush at a time; a failed one fails the write here
          flushing = datasync(fd);
        }
      }
      await flushing;
      flushing = undefined;
      fdatasyncSync(fd);
      open = false;
      closeSync(fd);
      renameSync(temp, path);
      syncDirectory(dirname(path));
      return { size: bytes.byteLength, ...(crc32 && { crc32: crc }) };
    } catch (error) {
      await flushing?.catch(() => {}); // the fd must outlive the flush using it
      if (open) closeSync(fd);
      rmSync(temp, { force: true });
      throw error;
    }
  }

  /**
   * Streams bytes of unknown content into a file named by their SHA-256 (`current.files`),
   * made read-only: it is the datastore's copy, and `files.path()` hands out its path. When
   * `isStored` says the datastore has those bytes already, the new copy is dropped.
   */
  async writeStream(chunks: AsyncIterable<Uint8Array | string>, isStored: (hash: string, size: number) => boolean): Promise<{ hash: string; entry: BlobFileEntry; added: boolean }> {
    ensureDirectory(this.tempDir);
    this.sweepTemps();
    const temp = join(this.tempDir, `stream.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const fd = openSync(temp, "wx", 0o444);
    let open = true;
    let flushing: Promise<void> | undefined;
    try {
      const digest = createHash("sha256");
      let crc = 0;
      let size = 0;
      for await (const chunk of asBytes(chunks)) {
        digest.update(chunk);
        if (crc32) crc = crc32(chunk, crc);
        for (let at = 0; at < chunk.byteLength; ) at += writeSync(fd, chunk, at, chunk.byteLength - at, size + at);
        if (Math.floor((size + chunk.byteLength) / FLUSH_EVERY_BYTES) > Math.floor(size / FLUSH_EVERY_BYTES)) {
          await flushing;
          flushing = datasync(fd);
        }
        size += chunk.byteLength;
      }
      await flushing;
      flushing = undefined;
      fdatasyncSync(fd);
      open = false;
      closeSync(fd);
      const hash = digest.digest("hex");
      const entry: BlobFileEntry = { size, ...(crc32 && { crc32: crc }) };
      if (isStored(hash, size)) {
        rmSync(temp, { force: true });
        return { hash, entry, added: false };
      }
      const path = this.path(hash);
      ensureDirectory(dirname(path));
      renameSync(temp, path);
      syncDirectory(dirname(path));
      return { hash, entry, added: true };
    } catch (error) {
      await flushing?.catch(() => {});
      if (open) closeSync(fd);
      rmSync(temp, { force: true });
      throw error;
    }
  }

  /**
   * The blob's file path once its bytes are checked against `entry` (CRC-32, or the SHA-256
   * without it), read in chunks; once per process while the file stays the same. Undefined
   * when the file is gone; a DatastoreError naming the file when it does not match.
   */
  async verified(hash: string, entry: BlobFileEntry): Promise<string | undefined> {
    const path = this.path(hash);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return undefined;
    const identity = `${hash}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (this.checked.has(identity)) return path;
    if (stat.size !== entry.size) throw damaged(path, `has ${stat.size} bytes where ${entry.size} were written`);
    const check = crc32 && entry.crc32 !== undefined ? crc32 : undefined;
    const digest = check ? undefined : createHash("sha256");
    let crc = 0;
    for await (const chunk of filePieces(path)) {
      if (check) crc = check(chunk, crc);
      else digest!.update(chunk);
    }
    if (check ? crc !== entry.crc32 : digest!.digest("hex") !== hash) throw damaged(path, "changed after it was written (its checksum does not match)");
    this.checked.add(identity);
    return path;
  }

  /**
   * Reads the blob into `target` at `offset` and returns its size, or undefined when the
   * file is gone. Throws a DatastoreError naming the file when it does not match `entry`
   * (size or checksum) or does not fit.
   */
  readInto(hash: string, entry: BlobFileEntry, target: Uint8Array, offset: number): number | undefined {
    const path = this.path(hash);
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return undefined;
      throw new DatastoreError(`cannot read blob file ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const size = fstatSync(fd).size;
      if (size !== entry.size) throw damaged(path, `has ${size} bytes where ${entry.size} were written`);
      if (offset + size > target.byteLength) throw blobTooLarge(hash, size, target.byteLength - offset);
      const check = crc32 && entry.crc32 !== undefined ? crc32 : undefined;
      let crc = 0;
      for (let done = 0; done < size; ) {
        const piece = this.piece(Math.min(PIECE_BYTES, size - done));
        const n = readSync(fd, piece, 0, piece.byteLength, done);
        if (n === 0) throw damaged(path, `ended after ${done} of its ${size} bytes`);
        const read = n === piece.byteLength ? piece : piece.subarray(0, n);
        if (check) crc = check(read, crc);
        target.set(read, offset + done);
        done += n;
      }
      const intact = check ? crc === entry.crc32 : sha256(target.subarray(offset, offset + size)) === hash;
      if (!intact) throw damaged(path, "changed after it was written (its checksum does not match)");
      return size;
    } catch (error) {
      if (error instanceof DatastoreError) throw error;
      throw new DatastoreError(`cannot read blob file ${path}: ${(error as Error).message}`, { cause: error }); // EIO
    } finally {
      closeSync(fd);
    }
  }

  /** The SHA-256 of the file's bytes and its size, read in pieces through one buffer; undefined when it is gone. */
  hashFile(hash: string): { size: number; hash: string } | undefined {
    let fd: number;
    try {
      fd = openSync(this.path(hash), "r");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return undefined;
      throw error;
    }
    try {
      const digest = createHash("sha256");
      const piece = this.piece(PIECE_BYTES);
      let size = 0;
      for (let n; (n = readSync(fd, piece, 0, PIECE_BYTES, size)) > 0; size += n) digest.update(piece.subarray(0, n));
      return { size, hash: digest.digest("hex") };
    } finally {
      closeSync(fd);
    }
  }

  /** The first `bytes` bytes of the shared buffer. */
  private piece(bytes: number): Buffer {
    this.scratch ??= Buffer.allocUnsafe(PIECE_BYTES);
    return bytes === PIECE_BYTES ? this.scratch : this.scratch.subarray(0, bytes);
  }

  /** Copies the blob's file into another datastore's blob directory, flushed (a backup); false when the file is gone. */
  copyTo(hash: string, other: BlobFiles): boolean {
    const target = other.path(hash);
    ensureDirectory(dirname(target));
    try {
      copyFileSync(this.path(hash), target);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return false;
      throw error;
    }
    const fd = openSync(target, "r");
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /** Flushes the directories a copy created (once, after every copyTo). */
  syncAll(): void {
    for (const entry of readdirSync(this.dir, { withFileTypes: true })) if (entry.isDirectory()) syncDirectory(join(this.dir, entry.name));
    syncDirectory(this.dir);
  }

  /**
   * Removes temporary files that a killed writer left, once per process and directory: only
   * those of a process that no longer exists, and old enough that a writer in another pid
   * namespace would have finished.
   */
  private sweepTemps(): void {
    if (this.tempsSwept) return;
    this.tempsSwept = true;
    for (const name of readdirSync(this.tempDir)) {
      const pid = TEMP_NAME.exec(name)?.[1];
      if (!pid || processExists(Number(pid))) continue;
      const file = join(this.tempDir, name);
      const stat = statSync(file, { throwIfNoEntry: false });
      if (stat && Date.now() - stat.mtimeMs > STALE_TEMP_MS) rmSync(file, { force: true });
    }
  }
}

/** A SHA-256 in lowercase hex: the only names blob files have (anything else could not be a safe file name). */
export function isBlobHash(name: string): boolean {
  return BLOB_HASH.test(name);
}

/** fdatasync on the thread pool, so the disk writes while the caller copies the next pieces. */
function datasync(fd: number): Promise<void> {
  return new Promise((done, fail) => fdatasync(fd, (error) => (error ? fail(error) : done())));
}

function damaged(path: string, what: string): DatastoreError {
  return new DatastoreError(`blob file ${path} is damaged: it ${what}`, {
    hint: "`flowrun datastore verify` lists every damaged blob; restore the file from a backup (`flowrun datastore backup`), or re-run the step that made it",
  });
}

/** A blob that does not fit where its artifact's record says it goes. */
export function blobTooLarge(hash: string, size: number, room: number): DatastoreError {
  return new DatastoreError(`blob ${hash} is ${size} bytes, more than the ${room} its artifact has left: the artifact's record and its data disagree`, {
    hint: "`flowrun datastore verify` lists every damaged blob",
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Creates `dir` (and its parent) if missing; a directory made here is flushed into its parent, so a renamed file in it survives a crash. */
function ensureDirectory(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EEXIST") return;
    if (code !== "ENOENT") throw error;
    ensureDirectory(dirname(dir));
    return ensureDirectory(dir); // another process may have made it meanwhile
  }
  syncDirectory(dirname(dir));
}

function syncDirectory(dir: string): void {
  // Windows cannot open a directory to flush it; NTFS journals the rename itself.
  if (process.platform === "win32") return;
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
