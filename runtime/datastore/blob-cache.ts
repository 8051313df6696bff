/**
 * A local, content-addressed copy of remote blobs, so reading the same artifact twice on
 * one machine downloads it once.
 *
 * A blob's name is the hash of its bytes, so a cached file is never stale and the cache
 * needs no invalidation; files are written to a temporary name and renamed into place, so
 * a crash leaves either the whole blob or nothing under the blob's name. The cache is
 * shared by every datastore on the machine: it only answers "what are the bytes of hash
 * H", never "does this datastore hold H" (that question always goes to the datastore).
 *
 * What it costs: disk. Nothing is evicted; delete the directory to reclaim the space.
 * Failing to write the cache (disk full, read-only directory) never fails a read or a
 * write of the datastore; it is reported once as a process warning.
 */
import { randomBytes } from "node:crypto";
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** Hashes become file names: refuse anything that could escape the cache directory. */
const SAFE_HASH = /^[A-Za-z0-9_-]{3,200}$/;

/**
 * `FLOWRUN_CACHE_DIR`, else `$XDG_CACHE_HOME/flowrun/blobs`, else `~/.cache/flowrun/blobs`.
 */
export function defaultBlobCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLOWRUN_CACHE_DIR) return env.FLOWRUN_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "flowrun", "blobs");
}

export class BlobCache {
  private warned = false;

  constructor(readonly dir: string) {}

  private path(hash: string): string | undefined {
    return SAFE_HASH.test(hash) ? join(this.dir, hash.slice(0, 2), hash) : undefined;
  }

  async has(hash: string): Promise<boolean> {
    const path = this.path(hash);
    return path !== undefined && access(path).then(() => true, () => false);
  }

  /** The cached bytes, or undefined on a miss (or an unreadable cache). */
  async get(hash: string): Promise<Uint8Array | undefined> {
    const path = this.path(hash);
    if (!path) return undefined;
    try {
      return await readFile(path);
    } catch {
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
