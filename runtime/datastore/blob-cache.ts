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
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { blobHash } from "./blob-hash.js";

/** Only names that are SHA-256 hashes are cached: anything else could neither be checked nor be a safe file name. */
const BLOB_HASH = /^[0-9a-f]{64}$/;

export class BlobCache {
  private warned = false;

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
