/**
 * A failed task's error can be found after the run, from the shell and from the client: the
 * task's stderr log ends with the error and the user's own source lines (each failed attempt's
 * log with its own error), `flowrun dump` of the task shows the exception, and
 * `task.exception` has its type, message and source line. (A failure @catchError handles is no
 * failure: test/metaflow-catch.test.ts.)
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Run, Task } from "../src/index.js";
import { lineOf } from "./support/fixture-markers.js";
import { describeResult, readRun, REPO, runCli, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const FLOW = `${REPO}test/fixtures/faults/FailingStepFlow.ts`;
const THROW_LINE = lineOf(FLOW, "the user's throw");
const CALL_LINE = lineOf(FLOW, "the step's call");
const store = tempDatastore();
after(() => store.remove());

const error = (attempt: number) => `RangeError: count must be positive, got -1 (attempt ${attempt})`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The error, then the user's frames (the helper's throw, then the step's call), and nothing of flowrun's. */
function assertEndsWithError(log: string, attempt: number): void {
  const lines = log.trimEnd().split("\n");
  const head = lines.lastIndexOf(error(attempt));
  assert.ok(head >= 0, `the log has the error of attempt ${attempt}:\n${log}`);
  const frames = lines.slice(head + 1);
  assert.match(frames[0] ?? "", new RegExp(`^\\s+at .*\\(?${escape(FLOW)}:${THROW_LINE}:\\d+\\)?$`), log);
  assert.match(frames[1] ?? "", new RegExp(`^\\s+at .*\\(?${escape(FLOW)}:${CALL_LINE}:\\d+\\)?$`), log);
  for (const frame of frames) {
    assert.match(frame, /^\s+at /, `only stack frames follow the error:\n${log}`);
    assert.ok(frame.includes(FLOW), `only the user's frames, not flowrun's or Node's: ${frame}`);
  }
}

describe("a task that failed", () => {
  let pathspec: string;
  let task: Task;
  let run: Run;
  before(async () => {
    const result = await runFlowCli(FLOW, [], store);
    assert.equal(result.code, 1, describeResult(result));
    run = await readRun(`FailingStepFlow/${result.runId}`, store);
    task = await (await run.step("start")).task();
    pathspec = task.pathspec;
  });

  test("`flowrun logs` shows its output and, at the end of stderr, the error with the user's lines", async () => {
    const logs = await runCli(["logs", pathspec], { env: store.env });
    assert.equal(logs.code, 0, describeResult(logs));
    assert.match(logs.stdout, /counting, attempt 1/);
    const stderr = await runCli(["logs", pathspec, "--stderr"], { env: store.env });
    assert.equal(stderr.code, 0, describeResult(stderr));
    assert.ok(stderr.stdout.startsWith("about to count (attempt 1)\n"), stderr.stdout);
    assertEndsWithError(stderr.stdout, 1);
  });

  test("each failed attempt's log ends with that attempt's error (`--attempt N`)", async () => {
    const first = await runCli(["logs", pathspec, "--stderr", "--attempt", "0"], { env: store.env });
    assert.equal(first.code, 0, describeResult(first));
    assert.ok(first.stdout.startsWith("about to count (attempt 0)\n"), first.stdout);
    assertEndsWithError(first.stdout, 0);
    assert.ok(!first.stdout.includes("attempt 1"), "only attempt 0's log");
    assertEndsWithError(await task.stderr({ attempt: 0 }), 0);
    assertEndsWithError(await task.stderr(), 1);
  });

  test("`flowrun dump` of the task shows the exception and the user's line", async () => {
    const dump = await runCli(["dump", pathspec], { env: store.env });
    assert.equal(dump.code, 0, describeResult(dump));
    const lines = dump.stdout.split("\n");
    assert.equal(lines[0], `${pathspec} (failed)`, dump.stdout);
    assert.equal(lines[1], `  exception: ${error(1)}`, dump.stdout);
    assert.match(lines[2] ?? "", new RegExp(`^\\s+at .*${escape(FLOW)}:${THROW_LINE}:\\d+\\)?$`), dump.stdout);
    const json = await runCli(["dump", pathspec, "--json"], { env: store.env });
    assert.equal(json.code, 0, describeResult(json));
    const parsed = JSON.parse(json.stdout) as { exception?: { name: string; message: string; source?: string } };
    assert.equal(parsed.exception?.name, "RangeError");
    assert.equal(parsed.exception?.source, `${FLOW}:${THROW_LINE}`);
  });

  test("`flowrun dump` of the run names the failed task and its error", async () => {
    const dump = await runCli(["dump", run.pathspec], { env: store.env });
    assert.equal(dump.code, 0, describeResult(dump));
    assert.ok(dump.stdout.includes(`failed: ${pathspec}: ${error(1)}`), dump.stdout);
  });

  test("the client's task.exception has the type, message, stack and the user's source line", () => {
    assert.equal(task.successful, false);
    assert.equal(task.attempt, 1);
    assert.equal(task.exception?.name, "RangeError");
    assert.equal(task.exception?.message, "count must be positive, got -1 (attempt 1)");
    assert.match(task.exception?.stack ?? "", /^RangeError: count must be positive/);
    assert.equal(task.exception?.source, `${FLOW}:${THROW_LINE}`);
  });
});
