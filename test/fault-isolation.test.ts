/**
 * Fault isolation: a task that throws, calls `process.exit`, blows its heap past
 * `@resources({ memory })` or loops past `@timeout` fails alone, with its reason and its log
 * kept; the tasks already running finish and commit; no new task starts; the run exits 1
 * with the user's own source line and the exact resume command. Then `@retry` (and
 * `--with retry`) and `@catchError` (test/fixtures/resume/FaultsFlow.ts).
 *
 * Each failure kind is first checked on its own, beside one slow split that must still
 * commit; then the scenario: every kind in one foreach of six.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Run, Task } from "../src/index.js";
import { lineOf } from "./support/fixture-markers.js";
import { describeResult, readRun, REPO, runFlowCli, tempDatastore, type FlowRunResult } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

const FAULTS = `${REPO}test/fixtures/faults`;
const ISOLATION = `${FAULTS}/FaultIsolationFlow.ts`;
const RESUME_FIXTURES = `${REPO}test/fixtures/resume`;

interface FaultRun {
  result: FlowRunResult;
  run: Run;
  /** The body split running `mode`. */
  split(mode: string): Task;
}

/**
 * Runs FaultIsolationFlow with one split per mode, and reads the run back. `timeoutSeconds`
 * replaces the step's @timeout of 2 s: a test whose slow splits must not time out on a
 * loaded machine raises it.
 */
async function runModes(modes: string[], timeoutSeconds?: number): Promise<FaultRun> {
  const env: Record<string, string> = timeoutSeconds ? { FAULTS_TIMEOUT_SECONDS: String(timeoutSeconds) } : {};
  const result = await runFlowCli(ISOLATION, ["--modes", modes.join(",")], store, { env });
  assert.ok(result.runId, describeResult(result));
  const run = await readRun(`FaultIsolationFlow/${result.runId}`, store);
  const splits = await (await run.step("body")).tasks();
  assert.deepEqual(splits.map((t) => t.index), modes.map((_, i) => i), "one task per split");
  return { result, run, split: (mode) => splits[modes.indexOf(mode)]! };
}

/** The split failed with `reason`, kept what it printed, and did not commit. */
async function assertFailedAlone(task: Task, reason: RegExp, printed: string): Promise<void> {
  assert.equal(task.successful, false);
  assert.match(task.exception?.message ?? "(no exception)", reason);
  assert.match(await task.stdout(), new RegExp(printed), "the split's log is kept");
}

/** The split finished and committed although its sibling failed. */
async function assertCommitted(task: Task, mode: string): Promise<void> {
  assert.equal(task.successful, true, `${task.pathspec} committed (exception: ${task.exception?.message})`);
  assert.equal(await task.artifact("mode"), mode);
}

describe("each failure fails its own split; the split beside it finishes", { concurrency: true }, () => {
  test("a thrown error: its message, the user's source line first, the resume command", async () => {
    const { result, run, split } = await runModes(["throw", "slow"], 60);
    assert.equal(result.code, 1, describeResult(result));
    assert.equal(run.status, "failed");
    const thrown = split("throw");
    await assertFailedAlone(thrown, /^split threw on purpose$/, "split 0 runs throw");
    await assertCommitted(split("slow"), "slow");
    // Dispatched before the failure (it may still have waited for its worker to boot), and not cancelled by it.
    assert.ok(split("slow").metadata.dispatchedAt! <= thrown.metadata.finishedAt!, "the slow split was in flight when the other failed");

    // The failure block: headline, then the stack with the user's frame before any runtime one.
    const lines = result.stderr.split("\n");
    const head = lines.findIndex((l) => l.trim() === `${thrown.pathspec}: split threw on purpose`);
    assert.ok(head >= 0, describeResult(result));
    const frames = lines.slice(head + 1).filter((l) => /^\s+at /.test(l));
    const userLine = lineOf(ISOLATION, "the user's line");
    assert.match(frames[0] ?? "(no frame)", new RegExp(`test/fixtures/faults/FaultIsolationFlow\\.ts:${userLine}:\\d+\\)?$`));
    assert.ok(lines.includes(`  Resume: flowrun resume test/fixtures/faults/FaultIsolationFlow.ts --origin-run-id ${result.runId}`), describeResult(result));
    assert.match(thrown.exception!.stack!, new RegExp(`FaultIsolationFlow\\.ts:${userLine}:`));
    await assert.rejects(run.step("join"), /has no tasks/, "nothing after the foreach ran");
  });

  test("process.exit(3) in a step: 'exited with code 3'", async () => {
    const { result, run, split } = await runModes(["exit", "slow"], 60);
    assert.equal(result.code, 1, describeResult(result));
    assert.equal(run.status, "failed");
    const exited = split("exit");
    await assertFailedAlone(exited, /task exited with code 3/, "split 0 runs exit");
    assert.match(await exited.stderr(), /exited with code 3/, "the reason is in the task's own log");
    await assertCommitted(split("slow"), "slow");
    assert.match(result.stderr, new RegExp(`\\[${exited.pathspec}\\] Task failed: task exited with code 3`));
  });

  test("a heap blow-up under @resources({ memory: 64 }): 'exceeded 64 MB memory'", async () => {
    const { result, run, split } = await runModes(["heap", "slow"], 60);
    assert.equal(result.code, 1, describeResult(result));
    assert.equal(run.status, "failed");
    const blown = split("heap");
    await assertFailedAlone(blown, /task exceeded 64 MB memory/, "split 0 runs heap");
    assert.match(await blown.stderr(), /exceeded 64 MB memory/);
    await assertCommitted(split("slow"), "slow");
  });

  test("an infinite loop under @timeout({ seconds: 2 }): 'timed out after 2 s'", async () => {
    const { result, run, split } = await runModes(["loop"]);
    assert.equal(result.code, 1, describeResult(result));
    assert.equal(run.status, "failed");
    const looped = split("loop");
    await assertFailedAlone(looped, /task timed out after 2 s/, "split 0 runs loop");
    assert.match(await looped.stderr(), /timed out after 2 s/);
    assert.ok(looped.durationMs! >= 2000, `ran ${looped.durationMs} ms`);
  });
});

describe("one foreach where splits throw, exit, blow the heap and loop, beside splits that succeed", () => {
  const MODES = ["throw", "ok", "exit", "heap", "loop", "slow"];
  let faults: FaultRun;
  // 8 s, not the step's 2: on a loaded machine the heap split can take over 2 s to reach its
  // limit and would time out instead (the 2 s timeout has its own test above).
  before(async () => {
    faults = await runModes(MODES, 8);
  });

  test("the run fails: exit 1, status failed, the exact resume command, nothing after the foreach", async () => {
    assert.equal(faults.result.code, 1, describeResult(faults.result));
    assert.equal(faults.run.status, "failed");
    assert.match(faults.result.stderr, new RegExp(`flowrun resume test/fixtures/faults/FaultIsolationFlow\\.ts --origin-run-id ${faults.result.runId}\\n`));
    await assert.rejects(faults.run.step("join"), /has no tasks/);
  });

  test("each failing split fails with its own reason and keeps its log", async () => {
    await assertFailedAlone(faults.split("throw"), /^split threw on purpose$/, "split 0 runs throw");
    await assertFailedAlone(faults.split("exit"), /task exited with code 3/, "split 2 runs exit");
    await assertFailedAlone(faults.split("heap"), /task exceeded 64 MB memory/, "split 3 runs heap");
    await assertFailedAlone(faults.split("loop"), /task timed out after 8 s/, "split 4 runs loop");
  });

  test("the splits that succeed finish and commit in the failed run", async () => {
    await assertCommitted(faults.split("ok"), "ok");
    await assertCommitted(faults.split("slow"), "slow");
  });

  test("stderr shows the thrown error with the user's source line before any runtime frame", () => {
    const lines = faults.result.stderr.split("\n");
    const head = lines.findIndex((l) => l.endsWith(`/body/${faults.split("throw").id}: split threw on purpose`));
    assert.ok(head >= 0, describeResult(faults.result));
    assert.match(lines[head + 1] ?? "", new RegExp(`^\\s+at .*FaultIsolationFlow\\.ts:${lineOf(ISOLATION, "the user's line")}:\\d+\\)?$`));
  });
});

describe("@retry, --with retry and @catchError", { concurrency: true }, () => {
  const FAULTS_FLOW = `${RESUME_FIXTURES}/FaultsFlow.ts`;

  async function workTask(flow: string, result: FlowRunResult): Promise<Task> {
    assert.ok(result.runId, describeResult(result));
    const run = await readRun(`${flow}/${result.runId}`, store);
    return (await run.step("work")).task();
  }

  test("a step that fails its first attempt succeeds on the second (current.retryCount is 1)", async () => {
    const result = await runFlowCli(FAULTS_FLOW, ["--mode", "flaky"], store);
    assert.equal(result.code, 0, describeResult(result));
    const work = await workTask("FaultsFlow", result);
    assert.equal(work.successful, true);
    assert.equal(work.attempt, 1);
    assert.equal(await work.artifact("attempts"), 2);
    assert.ok(!work.artifactNames().includes("failure"), "nothing was caught");
    assert.match(result.stdout, /failed: first attempt fails — retrying \(1\/1\)/);
  });

  test("@catchError stores the last attempt's error as the artifact and the run goes on (exit 0)", async () => {
    const result = await runFlowCli(FAULTS_FLOW, ["--mode", "throw"], store);
    assert.equal(result.code, 0, describeResult(result));
    const work = await workTask("FaultsFlow", result);
    assert.equal(work.successful, true);
    assert.equal(await work.artifact("attempts"), 2, "@retry ran first");
    const failure = await work.artifact<{ name: string; message: string }>("failure");
    assert.equal(failure.message, "always fails");
    assert.equal(work.exception, undefined, "the failure was handled: the task succeeded");
    const run = await readRun(`FaultsFlow/${result.runId}`, store);
    assert.equal(run.successful, true);
    assert.equal((await run.artifact<{ message: string }>("failure")).message, "always fails");
  });

  test("@catchError also records a worker that exited, after a retry on a fresh worker", async () => {
    const result = await runFlowCli(FAULTS_FLOW, ["--mode", "exit"], store);
    assert.equal(result.code, 0, describeResult(result));
    const work = await workTask("FaultsFlow", result);
    assert.equal(work.successful, true);
    const failure = await work.artifact<{ message: string }>("failure");
    assert.match(failure.message, /exited with code 3/);
  });

  test("--with retry:times=2 retries a flow that has no @retry", async () => {
    const result = await runFlowCli(`${FAULTS}/FlakyStepFlow.ts`, ["--with", "retry:times=2"], store);
    assert.equal(result.code, 0, describeResult(result));
    const work = await workTask("FlakyStepFlow", result);
    assert.equal(work.successful, true);
    assert.equal(work.attempt, 2);
    assert.equal(await work.artifact("attempts"), 3);
    assert.match(result.stdout, /retrying \(2\/2\)/);
  });
});
