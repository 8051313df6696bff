/**
 * The local datastore's large blobs, as files beside LMDB: `<datastore>/blobs/<ab>/<hash>`
 * holds exactly the blob's bytes (so `sha256sum` of a file prints its name). LMDB copies a
 * value through its own dirty pages into data.mdb, and a 100 MB value freed on replacement
 * leaves a free list LMDB then carries; a file is written straight from the caller's buffer
 * and read into the reader's (through a small buffer kept in cache: READ_PIECE_BYTES).
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
  closeSync, copyFileSync, fdatasyncSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync,
} from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as zlib from "node:zlib";
import { DatastoreError } from "../../src/core/errors.js";

/** Blobs this size and larger are files. Measured here: at 4 MiB a file (with its fsyncs) is written in 2/3 of LMDB's time, at 64 MiB 3/5; at 1 MiB they tie. */
export const FILE_BLOB_BYTES = 4 * 1024 * 1024;
/** Bytes per write call, and per read call of verify: calls cost nothing at this size. */
const PIECE_BYTES = 8 * 1024 * 1024;
/**
 * Reads go through a buffer of this size that stays in the CPU's cache: the CRC is taken
 * there, and the copy into the artifact's buffer is made from user code. On the bench's VM
 * the kernel filling fresh pages itself (one read() straight into the artifact's buffer)
 * was slower: each page then cost again at its first touch from user code (~6 us a page,
 * 150-190 ms per 100 MB), where a copy from user code pays once. Elsewhere the extra copy
 * from cache costs ~10 ms per 100 MB.
 */
const READ_PIECE_BYTES = 1024 * 1024;
/** Writes in flight per file: the kernel's copy into the page cache runs on two cores (measured: 100 MB in ~2/3 of the time of one writer). */
const WRITES_IN_FLIGHT = 2;
/** A temporary file of a dead process is removed once it is this old (a pid seen from another pid namespace may look dead). */
const STALE_TEMP_MS = 10 * 60 * 1000;
const BLOB_HASH = /^[0-9a-f]{64}$/;
const TEMP_NAME = /^[0-9a-f]{64}\.(\d+)\.[0-9a-f]+\.tmp$/;

/** zlib.crc32 is in Node from 20.15 and 22.2; without it reads check the SHA-256 instead. */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

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
  /** Read buffers, reused: fresh memory costs more than reading into it. */
  private piece: Buffer | undefined;
  private readPiece: Buffer | undefined;

  constructor(datastore: string) {
    this.dir = join(datastore, "blobs");
    this.tempDir = join(this.dir, "tmp");
  }

  path(hash: string): string {
    if (!BLOB_HASH.test(hash)) throw new DatastoreError(`invalid blob hash ${JSON.stringify(hash)}`);
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
    const file = await open(temp, "wx");
    let entry: BlobFileEntry;
    try {
      try {
        const written = writeAll(file, bytes);
        // Taken while the writes run on the thread pool: it costs no wall time.
        entry = { size: bytes.byteLength, ...(crc32 && { crc32: crc32(bytes) }) };
        await written;
        await file.datasync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
      syncDirectory(dirname(path));
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw error;
    }
    return entry;
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
      const piece = (this.readPiece ??= Buffer.allocUnsafe(READ_PIECE_BYTES));
      let crc = 0;
      for (let done = 0; done < size; ) {
        const n = readSync(fd, piece, 0, Math.min(READ_PIECE_BYTES, size - done), done);
        if (n === 0) throw damaged(path, `ended after ${done} of its ${size} bytes`);
        const bytes = n === READ_PIECE_BYTES ? piece : piece.subarray(0, n);
        if (check) crc = check(bytes, crc);
        target.set(bytes, offset + done);
        done += n;
      }
      const intact = check ? crc === entry.crc32 : sha256(target.subarray(offset, offset + size)) === hash;
      if (!intact) throw damaged(path, "changed after it was written (its checksum does not match)");
      return size;
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
      const piece = (this.piece ??= Buffer.allocUnsafe(PIECE_BYTES));
      let size = 0;
      for (let n; (n = readSync(fd, piece, 0, PIECE_BYTES, size)) > 0; size += n) digest.update(piece.subarray(0, n));
      return { size, hash: digest.digest("hex") };
    } finally {
      closeSync(fd);
    }
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

/** Writes all of `bytes` from offset 0, WRITES_IN_FLIGHT pieces at a time (a write may take less than asked). */
async function writeAll(file: import("node:fs/promises").FileHandle, bytes: Uint8Array): Promise<void> {
  let next = 0;
  const writer = async () => {
    while (next < bytes.byteLength) {
      let at = next;
      const end = Math.min(at + PIECE_BYTES, bytes.byteLength);
      next = end;
      while (at < end) at += (await file.write(bytes, at, end - at, at)).bytesWritten;
    }
  };
  await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, writer));
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
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}
