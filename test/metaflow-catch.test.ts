/**
 * Follows Metaflow's test/core/tests/catch_retry.py: @retry runs a step again until an attempt
 * succeeds (only that attempt's artifacts and logs count); with @catchError, a step that fails
 * on every attempt runs times + 1 attempts, then succeeds with the last attempt's artifacts and
 * the error in the artifact the decorator names, and `task.exception` stays undefined.
 * One run of test/fixtures/metaflow/CatchRetryFlow.ts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { CaughtError, Run, Task } from "../src/index.js";
import { lineOf } from "./support/fixture-markers.js";
import { describeResult, readRun, REPO, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const FLOW = join(REPO, "test/fixtures/metaflow/CatchRetryFlow.ts");
const store = tempDatastore();
after(() => store.remove());

describe("@retry and @catchError (CatchRetryFlow)", () => {
  let run: Run;
  let start: Task;
  let always: Task;
  let end: Task;
  before(async () => {
    const result = await runFlowCli(FLOW, [], store);
    assert.equal(result.code, 0, describeResult(result));
    run = await readRun(`CatchRetryFlow/${result.runId}`, store);
    const task = async (step: string) => (await run.step(step)).task();
    [start, always, end] = await Promise.all([task("start"), task("always"), task("end")]);
  });

  test("a retried step keeps only its successful attempt: its artifacts and its logs", async () => {
    assert.equal(start.attempt, 3);
    assert.equal(await start.artifact("testAttempt"), 3);
    assert.ok(!start.artifactNames().includes("invisible"), "set only by failed attempts");
    assert.match(await start.stdout(), /stdout testing logs 3\n/);
    assert.match(await start.stderr(), /stderr testing logs 3\n/);
  });

  test("a step failing on every attempt runs times + 1 attempts, then is caught with that attempt's artifacts", async () => {
    assert.equal(always.attempt, 2);
    assert.equal(await always.artifact("retryWithCatch"), 2);
    assert.equal(always.successful, true);
    assert.equal(always.exception, undefined, "the failure was handled");
  });

  test("the caught error's artifact has its type, message, stack, task and the user's source line", async () => {
    const ex = await always.artifact<CaughtError>("ex");
    assert.equal(ex.name, "TestRetry");
    assert.equal(ex.message, "fails on every attempt");
    assert.match(ex.stack ?? "", /^TestRetry: fails on every attempt\n\s+at /);
    assert.equal(ex.pathspec, always.pathspec);
    assert.equal(ex.attempt, 2);
    assert.equal(ex.source, `${FLOW}:${lineOf(FLOW, "the line @catchError reports")}`);
  });

  test("a caught end step: the run succeeds, the task has no exception, its artifacts are kept", async () => {
    assert.equal(run.successful, true);
    assert.equal(end.successful, true);
    assert.equal(end.exception, undefined);
    assert.equal(await end.artifact("here"), true);
    assert.equal(await end.artifact("testAttempt"), 3);
    const endEx = await end.artifact<CaughtError>("endEx");
    assert.equal(endEx.name, "ExternalCommandFailed");
    assert.equal(endEx.message, "catch me!");
    assert.equal(await end.stderr(), "", "printException: false prints nothing");
  });
});
