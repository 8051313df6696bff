/**
 * The S3 file cache downloads a file once per machine: tasks asking at the same moment wait
 * for the one holding the file's lock, and a lock left behind (its process gone, or its
 * thread terminated mid-download while the process lives on) is taken over, not waited on
 * forever.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BlobCache } from "../runtime/datastore/blob-cache.js";

const dir = mkdtempSync(join(tmpdir(), "flowrun-file-cache-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const bytes = Buffer.from("the file's bytes");
const hash = createHash("sha256").update(bytes).digest("hex");

/** A download that writes the bytes, counting its calls. */
function counting(): { calls: number; download(temp: string): Promise<boolean> } {
  const counter = {
    calls: 0,
    async download(temp: string) {
      counter.calls++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      writeFileSync(temp, bytes);
      return true;
    },
  };
  return counter;
}

function leaveLock(cache: BlobCache, pid: number, ageMs: number): void {
  mkdirSync(join(cache.dir, hash.slice(0, 2)), { recursive: true });
  const lock = join(cache.dir, hash.slice(0, 2), `${hash}.lock`);
  writeFileSync(lock, String(pid));
  const then = new Date(Date.now() - ageMs);
  utimesSync(lock, then, then);
}

test("five tasks asking at once: one download, the same checked path for all", async () => {
  const cache = new BlobCache(join(dir, "together"));
  const counter = counting();
  const paths = await Promise.all(Array.from({ length: 5 }, () => cache.fileOnce(hash, bytes.length, (temp) => counter.download(temp))));
  assert.equal(counter.calls, 1);
  assert.equal(new Set(paths).size, 1);
  assert.deepEqual(readFileSync(paths[0]!), bytes);
});

test("a lock whose process is gone is taken over", async () => {
  const cache = new BlobCache(join(dir, "dead"));
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
  leaveLock(cache, dead, 0);
  const counter = counting();
  assert.deepEqual(readFileSync((await cache.fileOnce(hash, bytes.length, (temp) => counter.download(temp)))!), bytes);
  assert.equal(counter.calls, 1);
});

test("a lock of a live process that nobody touched for a while (a terminated thread's) is taken over", async () => {
  const cache = new BlobCache(join(dir, "stale"));
  leaveLock(cache, process.pid, 60_000);
  const counter = counting();
  assert.deepEqual(readFileSync((await cache.fileOnce(hash, bytes.length, (temp) => counter.download(temp)))!), bytes);
  assert.equal(counter.calls, 1);
});

test("nothing to download: undefined, and the lock is released", async () => {
  const cache = new BlobCache(join(dir, "missing"));
  assert.equal(await cache.fileOnce(hash, bytes.length, async () => false), undefined);
  const counter = counting();
  assert.ok(await cache.fileOnce(hash, bytes.length, (temp) => counter.download(temp)));
});
