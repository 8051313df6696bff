/**
 * A pool stopped while its workers are still starting must not take the process down:
 * terminating a worker thread inside lmdb's native addon initialisation aborts the whole
 * process ("FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw"), which a loaded CI
 * machine hit when a run failed (or a usage error ended the CLI) while the next steps' workers
 * were booting. Here pools are stopped at every moment of their workers' start, in a child
 * process whose crash the test would see.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { REPO } from "./support/flowrun-cli.js";

const WORKER_THREADS = JSON.stringify(`${REPO}runtime/executor/worker-threads.ts`);

const SCRIPT = `
const { newWorkerPool, destroyWorkerPool } = await import(${WORKER_THREADS});
for (let delay = 0; delay <= 120; delay += 3) {
  const pools = [newWorkerPool(2), newWorkerPool(2)];
  await new Promise((resolve) => setTimeout(resolve, delay));
  await Promise.all(pools.map((pool) => destroyWorkerPool(pool)));
}
console.log("every pool stopped");
`;

test("pools stopped at any moment of their workers' start leave the process running", { timeout: 300_000 }, () => {
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", SCRIPT], { cwd: REPO, encoding: "utf8" });
  assert.doesNotMatch(child.stderr, /FATAL ERROR/, child.stderr);
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /every pool stopped/);
});

// A task stopped by @timeout has its worker terminated and replaced; when the run ends right
// after, the pool is stopped before the terminated worker's exit arrives, and piscina started
// its replacement into the stopped pool: a worker that never became ready kept the CLI alive
// after the run's summary (a CI run hung for an hour). And a task that answered just as its
// timeout fired made piscina emit an "Unexpected message from Worker" error that crashed the CLI.
const ABORTED = `
const { newWorkerPool, destroyWorkerPool } = await import(${WORKER_THREADS});
for (let i = 0; i < 12; i++) {
  const pool = newWorkerPool(2);
  await pool.run({ kind: "ping" }).catch(() => {});
  const timeout = new AbortController();
  const task = pool.run({ kind: "ping" }, { signal: timeout.signal }).catch(() => {});
  timeout.abort();
  await destroyWorkerPool(pool);
  await task;
}
console.log("every pool stopped");
`;

test("pools stopped just after a task was aborted let the process exit", { timeout: 300_000 }, () => {
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", ABORTED], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
  assert.equal(child.signal, null, "the process did not exit by itself within a minute");
  assert.doesNotMatch(child.stderr, /Unexpected message/, child.stderr);
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /every pool stopped/);
});
