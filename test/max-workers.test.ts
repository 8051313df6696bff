/**
 * `--max-workers N` as a Metaflow user relies on it: N tasks of a step run at the same time
 * whatever the number of cores (I/O-bound splits overlap), and a task's duration is its own
 * running time, not the time it spent waiting for a worker.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeResult, fixtureFlow, readRun, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());
const FLOW = fixtureFlow("waiting-splits.ts");

interface Span {
  start: number;
  end: number;
  arrived: boolean;
}

test("--max-workers 6 runs six waiting splits at the same time, on any number of cores", async () => {
  const barrier = mkdtempSync(join(tmpdir(), "flowrun-barrier-"));
  try {
    // Each split waits until all six have started: they finish together only if all six run at once.
    const result = await runFlowCli(FLOW, ["--splits", "6", "--barrier", barrier, "--max-workers", "6"], store);
    assert.equal(result.code, 0, describeResult(result));
    const spans = (await (await readRun(`WaitingSplitsFlow/${result.runId}`, store)).artifact("spans")) as Span[];
    assert.equal(spans.length, 6);
    assert.deepEqual(spans.map((s) => s.arrived), [true, true, true, true, true, true], "every split saw the six others start while it ran");
    const lastStart = Math.max(...spans.map((s) => s.start));
    const firstEnd = Math.min(...spans.map((s) => s.end));
    assert.ok(lastStart <= firstEnd, `six splits were running at once (last start ${lastStart}, first end ${firstEnd})`);
  } finally {
    rmSync(barrier, { recursive: true, force: true });
  }
});

test("a task's duration is counted from when it starts running, not while it waits for a worker", async () => {
  // Every cold worker takes 4 s to import this flow; the splits themselves take milliseconds.
  const result = await runFlowCli(FLOW, ["--splits", "6", "--max-workers", "6"], store, { env: { SLOW_IMPORT_MS: "4000" } });
  assert.equal(result.code, 0, describeResult(result));
  const shown = [...result.stdout.matchAll(/\/wait\/\d+\] Task finished successfully \((\d+(?:\.\d+)?) (ms|s)\)/g)].map(
    (m) => Number(m[1]) * (m[2] === "s" ? 1000 : 1),
  );
  assert.equal(shown.length, 6, describeResult(result));
  for (const ms of shown) assert.ok(ms < 2000, `a split shown as taking ${ms} ms:\n${result.stdout}`);
  const tasks = await (await (await readRun(`WaitingSplitsFlow/${result.runId}`, store)).step("wait")).tasks();
  for (const task of tasks) {
    const bodyStart = (await task.artifact("bodyStart")) as number;
    assert.ok(task.durationMs !== null && task.durationMs < 2000, `${task}: durationMs ${task.durationMs}`);
    // The recorded start is when a worker took the task up: just before its step body ran.
    const started = task.startedAt.getTime();
    assert.ok(started <= bodyStart && bodyStart - started < 2000, `${task}: started ${started}, body started ${bodyStart}`);
  }
});
