/**
 * `current.files` throughput: a 2 GB file put into and read back from the local datastore
 * (a blob file beside LMDB) and S3 (a local s3rver), next to `cp` and `cat` of the same file
 * on the same disk as the physical limit. Measured on the datastore layer a step's
 * `current.files` calls (FileStore over a real backend), in this process, the file hot in the
 * page cache for every row alike.
 *
 * - put: the SHA-256 (and CRC-32) of every byte, written to a temporary file, fdatasync'd and
 *   renamed (local); hashed, then uploaded in 16 MiB parts 4 at a time (S3). `cp` is followed
 *   by `sync` of the copy, as put flushes its file.
 * - read: a fresh process's first `files.open(ref)` read to the end: the check of the stored
 *   copy against its checksum, then the bytes (local); the download into an empty file cache,
 *   its SHA-256, then the bytes (S3). The reader hashes what it reads, so `sha256sum` of the
 *   file is the read's limit.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { FileStore } from "../runtime/datastore/file-store.js";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";
import { openS3Backend } from "../runtime/datastore/s3-backend.js";
import type { FileRef } from "../src/index.js";
import { startS3Server } from "../test/support/s3-server.js";
import { tempWorkspace } from "./cli-process.js";
import type { Measurement } from "./context.js";
import type { BenchRow } from "./table.js";

const FILE_MIB = 2048;
const MB = FILE_MIB * 1.048576;

/** A file of FILE_MIB distinct MiB (one random MiB, each copy stamped with its index). */
function writeSource(path: string): void {
  const block = randomBytes(1024 * 1024);
  const fd = openSync(path, "w");
  for (let i = 0; i < FILE_MIB; i++) {
    block.writeUInt32LE(i, 0);
    writeSync(fd, block);
  }
  closeSync(fd);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** Reads a stream to its end, hashing it as a step would use the bytes. */
async function consume(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const digest = createHash("sha256");
  for await (const chunk of stream) digest.update(chunk);
  return digest.digest("hex");
}

const row = (measurement: string, ms: number, notes: string[]): BenchRow => ({ measurement, value: MB / (ms / 1000), unit: "MB/s", notes: [`${ms.toFixed(0)} ms for ${MB.toFixed(0)} MB`, ...notes] });

const files2gb: Measurement = {
  id: "files-2gb",
  description: "current.files: a 2 GB file put and read on the local datastore and S3 (s3rver), next to cp and cat: MB/s",
  slow: true,
  async run(ctx): Promise<BenchRow[]> {
    const ws = tempWorkspace("files");
    const saved = { ...process.env };
    try {
      const source = join(ws.dir, "source.bin");
      ctx.log(`files: writing a ${FILE_MIB} MiB source file`);
      writeSource(source);
      const cp = await timed(async () => execFileSync("sh", ["-c", `cp "$0" "$1" && sync "$1"`, source, join(ws.dir, "copy.bin")]));
      const cat = await timed(async () => execFileSync("sh", ["-c", `cat "$0" > /dev/null`, source]));
      // The measured reads hash what they read (as a step would use the bytes): their limit hashes too.
      const sha256sum = await timed(async () => execFileSync("sha256sum", [source]));

      ctx.log("files: local datastore");
      const local = new LmdbBackend(join(ws.dir, "local"));
      const put = await timed(() => new FileStore(local).put(source));
      await local.close();
      // A new backend: nothing checked yet in this "process", as in the next step's worker.
      const reopened = new LmdbBackend(join(ws.dir, "local"));
      const read = await timed(() => consume(new FileStore(reopened).open(put.value)));
      await reopened.close();
      if (read.value !== put.value.hash) throw new Error("local read gave other bytes");

      ctx.log("files: S3 (s3rver)");
      const server = await startS3Server({ bucket: "flowrun-bench" });
      let s3Put: { ms: number; value: FileRef };
      let s3Read: { ms: number; value: string };
      try {
        Object.assign(process.env, server.env);
        const root = `s3://${server.bucket}/files`;
        const writer = await openS3Backend(root, { cacheDir: join(ws.dir, "cache-writer") });
        s3Put = await timed(() => new FileStore(writer).put(source));
        await writer.close();
        const reader = await openS3Backend(root, { cacheDir: join(ws.dir, "cache-reader") });
        s3Read = await timed(() => consume(new FileStore(reader).open(s3Put.value)));
        await reader.close();
        if (s3Read.value !== s3Put.value.hash) throw new Error("S3 read gave other bytes");
      } finally {
        await server.stop();
      }
      return [
        row("files 2 GB: cp + sync (limit)", cp.ms, ["cp of the same file on the same disk, then sync of the copy"]),
        row("files 2 GB: put, local", put.ms, [`${(put.ms / cp.ms).toFixed(2)}x cp's time: SHA-256 + CRC-32 of every byte, written, fdatasync, renamed`]),
        row("files 2 GB: sha256sum (limit)", sha256sum.ms, [`one read of the file, hot in the page cache, hashed as the reads below hash it (cat > /dev/null alone: ${cat.ms.toFixed(0)} ms)`]),
        row("files 2 GB: read, local (first open in a process)", read.ms, [`${(read.ms / sha256sum.ms).toFixed(2)}x sha256sum's time: the CRC-32 check of the stored copy, then the bytes, hashed by the reader`]),
        row("files 2 GB: put, S3 (s3rver)", s3Put.ms, [`${(s3Put.ms / cp.ms).toFixed(2)}x cp's time: SHA-256, HEAD, 16 MiB parts 4 at a time to s3rver on 127.0.0.1 (a single Node process writing files)`]),
        row("files 2 GB: read, S3 (s3rver, empty cache)", s3Read.ms, [`${(s3Read.ms / sha256sum.ms).toFixed(2)}x sha256sum's time: ranged GETs into the file cache, its SHA-256, then the bytes`]),
      ];
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      ws.dispose();
    }
  },
};

export const fileMeasurements: Measurement[] = [files2gb];
