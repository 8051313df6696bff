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

const SCRIPT = `
const { newWorkerPool, destroyWorkerPool } = await import(${JSON.stringify(`${REPO}runtime/executor/worker-threads.ts`)});
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
