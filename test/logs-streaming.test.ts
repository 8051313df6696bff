/**
 * `flowrun logs` streams a log instead of holding it (it once used 1.6 GB for 100 MB of
 * output): a task's 64 MiB of output comes out byte for byte from a CLI whose JavaScript
 * heap is capped at half that. Holding the log, as strings or joined, exceeds the cap and
 * the process dies; streaming keeps a chunk or two. The cap is what the test measures, not
 * RSS: LMDB maps its file, so every page of a log read counts in RSS however little the
 * process keeps.
 *
 * On S3, the log is listed a page (1,000 keys) at a time and read a few records ahead:
 * a log of more chunks than a page comes back whole and in order.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { after, describe, test } from "node:test";
import { openS3Backend } from "../runtime/datastore/s3-backend.js";
import { logKeyFor, MetadataStore } from "../runtime/metadata/metadata-store.js";
import { describeResult, fixtureFlow, REPO, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";
import { startS3Server } from "./support/s3-server.js";
import { isolateFromAws, useS3Server } from "./fixtures/s3/test-stores.js";
import { loudWrites } from "./fixtures/flows/loud-output.js";

const LOG_MIB = 64;
const HEAP_CAP_MIB = LOG_MIB / 2;
const TSX = import.meta.resolve("tsx");

/** `flowrun logs ...args` with the heap capped: exit code, and SHA-256 and size of stdout. */
function logsWithCappedHeap(args: string[], env: Record<string, string>): Promise<{ code: number; sha256: string; bytes: number; stderr: string }> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_CAP_MIB}`, "--import", TSX, "src/cli/main.ts", "logs", ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
  });
  const hash = createHash("sha256");
  let bytes = 0;
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), sha256: hash.digest("hex"), bytes, stderr }));
  });
}

test(`flowrun logs of ${LOG_MIB} MiB of output, with a ${HEAP_CAP_MIB} MiB heap: exact`, async () => {
  const store = tempDatastore();
  after(() => store.remove());
  const run = await runFlowCli(fixtureFlow("loud.ts"), ["--mib", String(LOG_MIB), "--quiet"], store);
  assert.equal(run.code, 0, describeResult(run));

  const expected = createHash("sha256");
  for (const text of loudWrites(LOG_MIB, 1024)) expected.update(text);
  const logs = await logsWithCappedHeap([`LoudFlow/${run.runId}/start`, "--stdout"], store.env);
  assert.equal(logs.code, 0, logs.stderr.slice(0, 2000));
  assert.equal(logs.bytes, LOG_MIB * 2 ** 20);
  assert.equal(logs.sha256, expected.digest("hex"), "the output, byte for byte");
});

describe("on S3", () => {
  const scratch = isolateFromAws();
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test("a log of more chunks than a listing page streams back whole and in order", async () => {
    const server = await startS3Server();
    after(() => server.stop());
    useS3Server(server);
    const metadata = new MetadataStore(await openS3Backend(`s3://${server.bucket}/pages`));
    after(() => metadata.backend.close());
    const logKey = logKeyFor("PagedFlow", "1", "start", "1", 0);
    const chunks = Array.from({ length: 1_050 }, (_, seq) => ({ logKey, stream: "stdout" as const, seq, text: `line ${seq}\n` }));
    const batches = Array.from({ length: 10 }, (_, i) => chunks.filter((c) => c.seq % 10 === i));
    await Promise.all(batches.map((batch) => metadata.appendLogs(batch)));

    const read: string[] = [];
    for await (const text of metadata.streamLog(logKey, "stdout")) read.push(text);
    assert.deepEqual(read, chunks.map((c) => c.text));
  });
});
