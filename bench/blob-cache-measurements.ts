/**
 * What checking the local blob cache costs: every read of a cached S3 blob re-hashes its
 * bytes (SHA-256) so a file changed on disk is never served. Measured on a cached 100 MB
 * blob, in this process: the cache's read (file read + hash check) against reading the
 * same file without the check. The file is read once first so both come from the page cache.
 */
import { randomFillSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BlobCache } from "../runtime/datastore/blob-cache.js";
import { blobHash } from "../runtime/datastore/blob-hash.js";
import { median, tempWorkspace } from "./cli-process.js";
import type { Measurement } from "./context.js";
import type { BenchRow } from "./table.js";

const MB = 100;

const blobCacheVerify: Measurement = {
  id: "blob-cache-verify",
  description: "Local blob cache: reading a cached 100 MB blob with its hash checked vs. without: MB/s",
  async run(ctx): Promise<BenchRow[]> {
    const ws = tempWorkspace("blob-cache");
    try {
      const cache = new BlobCache(ws.dir);
      const bytes = randomFillSync(Buffer.allocUnsafe(MB * 2 ** 20));
      const hash = blobHash(bytes);
      await cache.put(hash, bytes);
      const file = join(ws.dir, hash.slice(0, 2), hash);
      await readFile(file);
      const timed = async (read: () => Promise<unknown>) => {
        const started = performance.now();
        if (!(await read())) throw new Error("the cached blob was not served");
        return performance.now() - started;
      };
      const plain: number[] = [];
      const checked: number[] = [];
      for (let i = 0; i < Math.max(3, ctx.repeat); i++) {
        plain.push(await timed(() => readFile(file)));
        checked.push(await timed(() => cache.get(hash)));
      }
      const plainMs = median(plain);
      const checkedMs = median(checked);
      const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(", ");
      return [
        {
          measurement: "Blob cache 100 MB read, hash checked",
          value: MB / (checkedMs / 1000),
          unit: "MB/s",
          notes: [
            `BlobCache.get (read + SHA-256 check) ${checkedMs.toFixed(0)} ms vs. the same file read unchecked ${plainMs.toFixed(0)} ms (${(MB / (plainMs / 1000)).toFixed(0)} MB/s): the check costs ${(checkedMs - plainMs).toFixed(0)} ms per 100 MB`,
            `medians of ${checked.length} (checked: ${list(checked)} ms; unchecked: ${list(plain)} ms); file in the page cache`,
          ],
        },
      ];
    } finally {
      ws.dispose();
    }
  },
};

export const blobCacheMeasurements: Measurement[] = [blobCacheVerify];
