/**
 * A local, content-addressed copy of remote blobs, so reading the same artifact twice on
 * one machine downloads it once.
 *
 * A blob's name is the hash of its bytes, so a cached file is never stale and the cache
 * needs no invalidation; files are written to a temporary name and renamed into place, so
 * a crash leaves either the whole blob or nothing under the blob's name. A file changed
 * since (a bad disk, a person) is caught on read: every read re-hashes the bytes (SHA-256:
 * ~1 ms per MB alone, ~3 ms per MB on a freshly read file; `npm run bench -- blob-cache`),
 * and a file that does not match is removed and reported as a miss, so the caller
 * downloads the blob again. The cache is
 * shared by every datastore on the machine: it only answers "what are the bytes of hash
 * H", never "does this datastore hold H" (that question always goes to the datastore).
 *
 * What it costs: disk. Nothing is evicted; delete the directory to reclaim the space.
 * Failing to write the cache (disk full, read-only directory) never fails a read or a
 * write of the datastore; it is reported once as a process warning.
 */
import { randomBytes } from "node:crypto";
import { access, mkdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { blobHash } from "./blob-hash.js";
import { hashFile } from "./file-digest.js";
import { ENV_VARS } from "../../src/core/config.js";
import { DatastoreError } from "../../src/core/errors.js";
import { processExists } from "./process-exists.js";

/** Only names that are SHA-256 hashes are cached: anything else could neither be checked nor be a safe file name. */
const BLOB_HASH = /^[0-9a-f]{64}$/;

/** How often a task waiting for another's download of a file looks again. */
const LOCK_POLL_MS = 100;
/** A downloader touches its lock this often; a lock untouched for LOCK_STALE_MS is abandoned. */
const LOCK_REFRESH_MS = 1000;
const LOCK_STALE_MS = 15_000;

export class BlobCache {
  private warned = false;
  /** Files checked whole by `verifiedFile` in this process, as `hash:inode:size:mtime`. */
  private readonly checked = new Set<string>();

  constructor(readonly dir: string) {}

  private path(hash: string): string | undefined {
    return BLOB_HASH.test(hash) ? join(this.dir, hash.slice(0, 2), hash) : undefined;
  }

  async has(hash: string): Promise<boolean> {
    const path = this.path(hash);
    return path !== undefined && access(path).then(() => true, () => false);
  }

  /** The cached bytes, or undefined on a miss, an unreadable cache or a file that no longer matches its hash (then removed). */
  async get(hash: string): Promise<Uint8Array | undefined> {
    const path = this.path(hash);
    if (!path) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      return undefined;
    }
    if (blobHash(bytes) === hash) return bytes;
    await rm(path, { force: true }).catch(() => {});
    process.emitWarning(`flowrun: blob cache file ${path} did not match its hash (changed on disk): removed, downloading the blob again`);
    return undefined;
  }

  /**
   * The cached copy of a stored file (`current.files` on S3), checked against its hash once
   * per process while it stays the same file; undefined on a miss, or when the copy no
   * longer matches (then removed, with a warning, so the caller downloads it again).
   */
  async verifiedFile(hash: string, size: number): Promise<string | undefined> {
    const path = this.path(hash);
    const found = path && (await stat(path).catch(() => undefined));
    if (!path || !found) return undefined;
    const identity = `${hash}:${found.ino}:${found.size}:${found.mtimeMs}`;
    if (this.checked.has(identity)) return path;
    if (found.size === size && (await hashFile(path)).hash === hash) {
      this.checked.add(identity);
      return path;
    }
    await rm(path, { force: true }).catch(() => {});
    process.emitWarning(`flowrun: cached file ${path} did not match its hash (changed on disk): removed, downloading it again`);
    return undefined;
  }

  /**
   * The cached copy of a stored file, downloaded by `download(temp)` when missing; once for
   * the machine: the splits of a foreach asking at the same moment (threads or processes)
   * wait for the one that holds `<hash>.lock` instead of each downloading the file. A lock
   * whose process is gone, or that its holder stopped touching, is taken over. Undefined
   * when `download` finds nothing.
   */
  async fileOnce(hash: string, size: number, download: (temp: string) => Promise<boolean>): Promise<string | undefined> {
    const path = this.path(hash);
    if (!path) return undefined;
    const lock = `${path}.lock`;
    for (;;) {
      const cached = await this.verifiedFile(hash, size);
      if (cached) return cached;
      await mkdir(join(this.dir, hash.slice(0, 2)), { recursive: true });
      const owner = await writeFile(lock, String(process.pid), { flag: "wx" }).then(() => true, (error: NodeJS.ErrnoException) => {
        if (error.code !== "EEXIST") throw error;
        return false;
      });
      if (owner) {
        const temp = await this.tempFile();
        // The lock's mtime says its holder is still at work: a worker thread terminated
        // mid-download (@timeout) leaves a lock whose process lives on.
        const alive = setInterval(() => utimes(lock, new Date(), new Date()).catch(() => {}), LOCK_REFRESH_MS);
        try {
          return (await download(temp)) ? ((await this.adopt(temp, hash)) ?? unwritable(this.dir)) : undefined;
        } finally {
          clearInterval(alive);
          await rm(temp, { force: true });
          await rm(lock, { force: true });
        }
      }
      const holder = Number(await readFile(lock, "utf8").catch(() => ""));
      const touched = (await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now();
      if ((holder && !processExists(holder)) || Date.now() - touched > LOCK_STALE_MS) await rm(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }

  /** A new temporary file name in the cache, for a download or a spool later `adopt`ed (or removed). */
  async tempFile(): Promise<string> {
    const dir = join(this.dir, "tmp");
    await mkdir(dir, { recursive: true });
    return join(dir, `${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  }

  /** Renames a complete temporary file, whose bytes hash to `hash`, into place; its path, or undefined if that failed (temp removed). */
  async adopt(temp: string, hash: string): Promise<string | undefined> {
    const path = this.path(hash);
    try {
      if (!path) throw new Error(`invalid hash ${hash}`);
      await mkdir(join(this.dir, hash.slice(0, 2)), { recursive: true });
      await rename(temp, path);
      return path;
    } catch {
      await rm(temp, { force: true }).catch(() => {});
      return undefined;
    }
  }

  /** Stores `bytes` as the content of `hash`; best effort, never throws. */
  async put(hash: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(hash);
    if (!path) return;
    const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await mkdir(join(this.dir, hash.slice(0, 2)), { recursive: true });
      // Two writers of one hash both rename whole files over each other: equal bytes, no race.
      await writeFile(temp, bytes);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      if (!this.warned) {
        this.warned = true;
        process.emitWarning(`flowrun: blob cache ${this.dir} not written (${(error as Error).message}); reads will download again`);
      }
    }
  }
}

function unwritable(dir: string): never {
  throw new DatastoreError(`cannot write the file cache ${dir}`, { hint: `make it writable, or set ${ENV_VARS.blobCache.name} to a writable directory` });
}
