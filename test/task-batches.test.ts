/**
 * Short tasks of a step go to a worker several to a message once they wait for one
 * (runtime/executor/task-batcher.ts). First the batcher alone, with a sender that stands in
 * for the worker and answers when the test says: which tasks travel together, and what
 * happens to a batch cut short by its time budget or by its worker's death. Then what a user
 * relies on, in real runs: a worker that exits in the middle of short splits fails the one
 * split it was running, and no other split is lost, committed twice or run twice.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PoolGate } from "../runtime/executor/pool-gate.js";
import { TaskBatcher } from "../runtime/executor/task-batcher.js";
import type { TaskBatch, TaskBatchResponse, TaskRequest, TaskResponse } from "../runtime/protocol.js";
import { TaskProgress } from "../runtime/task-progress.js";
import { Flow } from "../src/index.js";
import { describeResult, inNamespace, readRun, REPO, runCli, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

/** A request the batcher only passes on: its task ID tells the tasks apart. */
function request(taskId: number): TaskRequest {
  return { kind: "task", current: { taskId: String(taskId) }, step: "body" } as unknown as TaskRequest;
}

function succeeded(task: TaskRequest): TaskResponse {
  return { kind: "task", ok: true, artifacts: {}, next: null, logMessages: 0, timing: { bodyMs: 0.2 }, startedAt: Number(task.current.taskId) };
}

/** Stands in for the worker: records each batch, and answers it when the test calls `answer`. */
class FakeWorker {
  readonly batches: TaskBatch[] = [];
  private readonly answers: Array<(answer: (batch: TaskBatch) => TaskBatchResponse) => void> = [];

  send = (batch: TaskBatch): Promise<TaskBatchResponse> => {
    this.batches.push(batch);
    return new Promise((resolve, reject) => {
      this.answers.push((answer) => {
        try {
          resolve(answer(batch));
        } catch (error) {
          reject(error);
        }
      });
    });
  };

  /** Answers the oldest unanswered batch: every task run, unless `answer` says otherwise. */
  async answer(answer = (batch: TaskBatch) => ({ kind: "batch" as const, responses: batch.tasks.map(succeeded) })): Promise<void> {
    this.answers.shift()!(answer);
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Task IDs of each batch sent so far. */
  get sent(): string[][] {
    return this.batches.map((batch) => batch.tasks.map((task) => task.current.taskId));
  }
}

/** The promise's outcome, handled from now on (a rejection the test checks later is not "unhandled"). */
function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: Error }> {
  return promise.then((value) => ({ value }), (error: Error) => ({ error }));
}

/** Marks the batch's task at `index` as taken up by the worker, as the worker does. */
function start(batch: TaskBatch, index: number): void {
  const { buffer } = batch.tasks[index]!.progress;
  new TaskProgress(buffer).markStarted(index, Date.now());
}

/** Runs the batch's first `count` tasks to the end, keeping each answer as the worker does. */
function finish(batch: TaskBatch, count: number): void {
  for (let i = 0; i < count; i++) {
    start(batch, i);
    assert.equal(new TaskProgress(batch.tasks[i]!.progress.buffer).record(succeeded(batch.tasks[i]!)), true);
  }
}

/** One worker's pool, with one short task already run (so the batcher knows the step is short). */
async function warmedBatcher(stopped = false): Promise<{ worker: FakeWorker; batcher: TaskBatcher }> {
  const worker = new FakeWorker();
  const batcher = new TaskBatcher(new PoolGate(1, 1), worker.send, () => stopped);
  const first = batcher.run(request(0));
  await worker.answer();
  assert.equal((await first).ok, true);
  return { worker, batcher };
}

describe("the batcher", () => {
  test("a step's first task goes alone; tasks that wait for the worker then go together, each answered with its own response", async () => {
    const { worker, batcher } = await warmedBatcher();
    const running = batcher.run(request(1));
    const waiting = [2, 3, 4, 5].map((id) => batcher.run(request(id)));
    assert.deepEqual(worker.sent, [["0"], ["1"]], "the worker was free for task 1: it went at once, alone");
    await worker.answer();
    assert.deepEqual(worker.sent.at(-1), ["2", "3", "4", "5"], "the tasks that waited went in one message");
    const { tasks } = worker.batches.at(-1)!;
    assert.deepEqual(tasks.map((task) => task.progress.index), [0, 1, 2, 3], "each task of the batch has its own place in the batch's progress");
    assert.ok(tasks.every((task) => task.progress.buffer === tasks[0]!.progress.buffer), "one shared buffer for the batch");
    await worker.answer();
    assert.equal((await running).startedAt, 1);
    assert.deepEqual((await Promise.all(waiting)).map((response) => response.startedAt), [2, 3, 4, 5], "each task got its own response");
  });

  test("tasks the worker did not start within the batch's budget are sent again", async () => {
    const { worker, batcher } = await warmedBatcher();
    const running = batcher.run(request(1));
    const waiting = [2, 3, 4].map((id) => batcher.run(request(id)));
    await worker.answer();
    await worker.answer((batch) => ({ kind: "batch", responses: batch.tasks.slice(0, 1).map(succeeded) }));
    assert.deepEqual(worker.sent.at(-1), ["3", "4"], "the two unstarted tasks went again");
    await worker.answer();
    await running;
    assert.deepEqual((await Promise.all(waiting)).map((response) => response.startedAt), [2, 3, 4]);
  });

  test("a worker that dies in a batch fails the task it was running; those it finished keep their answers, those it never started are sent again", async () => {
    const { worker, batcher } = await warmedBatcher();
    const running = batcher.run(request(1));
    const waiting = [2, 3, 4, 5].map((id) => outcome(batcher.run(request(id))));
    await worker.answer();
    await worker.answer((batch) => {
      finish(batch, 1); // finished task 2,
      start(batch, 1); // died in task 3
      throw new Error("task exited with code 3");
    });
    assert.equal((await waiting[0]!).value?.startedAt, 2, "the finished task has the answer the worker kept");
    assert.match((await waiting[1]!).error?.message ?? "(resolved)", /exited with code 3/);
    assert.deepEqual(worker.sent.at(-1), ["4", "5"], "only the unstarted tasks went again, in order");
    await worker.answer();
    await running;
    for (const [i, id] of [[2, 4], [3, 5]] as const) assert.equal((await waiting[i]!).value?.startedAt, id);
  });

  test("a worker that dies between two tasks of a batch fails neither: the finished one keeps its answer, the next is sent again", async () => {
    const { worker, batcher } = await warmedBatcher();
    const running = batcher.run(request(1));
    const waiting = [2, 3, 4].map((id) => outcome(batcher.run(request(id))));
    await worker.answer();
    await worker.answer((batch) => {
      finish(batch, 1); // finished task 2; a timer it left ends the thread before task 3 starts
      throw new Error("task exited with code 3");
    });
    assert.deepEqual(worker.sent.at(-1), ["3", "4"]);
    await worker.answer();
    await running;
    assert.deepEqual((await Promise.all(waiting)).map((task) => task.value?.startedAt), [2, 3, 4]);
  });

  test("a worker that dies before it starts any task of a batch fails the first task only", async () => {
    const { worker, batcher } = await warmedBatcher();
    const running = batcher.run(request(1));
    const waiting = [2, 3].map((id) => outcome(batcher.run(request(id))));
    await worker.answer();
    await worker.answer(() => {
      throw new Error("lost its worker thread");
    });
    assert.match((await waiting[0]!).error?.message ?? "(resolved)", /lost its worker thread/);
    assert.deepEqual(worker.sent.at(-1), ["3"]);
    await worker.answer();
    await running;
    assert.equal((await waiting[1]!).value?.startedAt, 3);
  });

  test("a step whose tasks take a millisecond or more spreads over one worker per core; trivial ones keep one worker", async () => {
    for (const [bodyMs, width] of [[0.2, 1], [3, 2]] as const) {
      const worker = new FakeWorker();
      const gate = new PoolGate(16, 2);
      const batcher = new TaskBatcher(gate, worker.send, () => false);
      const answer = (batch: TaskBatch) => ({ kind: "batch" as const, responses: batch.tasks.map((task) => ({ ...succeeded(task), timing: { bodyMs } })) });
      for (let id = 0; id < 3; id++) {
        const task = batcher.run(request(id));
        await worker.answer(answer);
        await task;
      }
      assert.equal(gate.width, width, `tasks of ${bodyMs} ms`);
    }
  });

  test("once the pool is stopped, nothing is sent again: the rest of the batch fails with the same error", async () => {
    const { worker, batcher } = await warmedBatcher(true);
    const running = batcher.run(request(1));
    const waiting = [2, 3].map((id) => outcome(batcher.run(request(id))));
    await worker.answer();
    await running;
    const sentBefore = worker.batches.length;
    await worker.answer((batch) => {
      start(batch, 0);
      throw new Error("task stopped: the run was cancelled");
    });
    for (const task of await Promise.all(waiting)) assert.match(task.error?.message ?? "(resolved)", /cancelled/);
    assert.equal(worker.batches.length, sentBefore);
  });
});

describe("a worker lost among short splits", () => {
  const store = tempDatastore();
  after(() => store.remove());
  const FLOW = `${REPO}test/fixtures/faults/ShortSplitsFlow.ts`;
  const SPLITS = 300;
  const EXIT_AT = 200;
  const sumOfDoubles = SPLITS * (SPLITS - 1);
  /** Split EXIT_AT's first attempt exits; the resumed run's does not. */
  const EXIT = { SHORT_SPLITS_EXIT_AT: String(EXIT_AT) };

  /** How many times each split's body ran, by split index, from the fixture's SHORT_SPLITS_RAN_LOG. */
  function runsBySplit(ranLog: string): Map<number, number> {
    const runs = new Map<number, number>();
    for (const line of readFileSync(ranLog, "utf8").trim().split("\n")) runs.set(Number(line), (runs.get(Number(line)) ?? 0) + 1);
    return runs;
  }

  test("fails only the split it was running: @retry runs that one again, and every split commits exactly once", async () => {
    const ranLog = join(store.root, "..", "ran.log");
    const result = await runFlowCli(FLOW, ["--with", "retry:times=1"], store, { env: { ...EXIT, SHORT_SPLITS_RAN_LOG: ranLog } });
    assert.equal(result.code, 0, describeResult(result));
    assert.match(result.stdout, /exited with code 3 — retrying \(1\/1\)/);
    const run = await readRun(`ShortSplitsFlow/${result.runId}`, store);
    const splits = await (await run.step("body")).tasks();
    assert.equal(splits.length, SPLITS, "one task per split");
    for (const task of splits) {
      assert.equal(task.successful, true, `${task.pathspec} committed`);
      assert.equal(await task.artifact("doubled"), task.index! * 2);
      assert.equal(task.attempt, task.index === EXIT_AT ? 1 : 0, `${task.pathspec}: only the exiting split was retried`);
    }
    assert.equal(await run.artifact("total"), sumOfDoubles);
    // The splits the worker had finished in the batch it died in ran once, like every other.
    const runs = runsBySplit(ranLog);
    const ranTwice = [...runs].filter(([, count]) => count > 1).map(([index]) => index);
    assert.deepEqual(ranTwice, [EXIT_AT], "only the split that exited (and was retried) ran twice");
    assert.equal(runs.size, SPLITS);
  });

  test("without @retry the run fails naming that split alone, and resume finishes it from the splits that committed", async () => {
    const failed = await runFlowCli(FLOW, [], store, { env: EXIT });
    assert.equal(failed.code, 1, describeResult(failed));
    const run = await readRun(`ShortSplitsFlow/${failed.runId}`, store);
    const splits = await (await run.step("body")).tasks();
    const failures = splits.filter((task) => !task.successful);
    assert.deepEqual(failures.map((task) => task.index), [EXIT_AT], "the exiting split is the only failure");
    assert.match(failures[0]!.exception?.message ?? "", /exited with code 3/);
    for (const task of splits.filter((t) => t.successful)) assert.equal(await task.artifact("doubled"), task.index! * 2);

    const resumed = await runCli(["resume", FLOW, "--origin-run-id", run.id], { env: store.env });
    assert.equal(resumed.code, 0, describeResult(resumed));
    const latest = await inNamespace(null, () => new Flow("ShortSplitsFlow", { datastore: store.datastore }).latestRun());
    assert.equal(latest.originRunId, run.id);
    assert.equal(await latest.artifact("total"), sumOfDoubles);
  });

  test("splits whose answers outgrow a batch's room for them still run once each, and commit what they computed", async () => {
    const ranLog = join(store.root, "..", "ran-padded.log");
    // 60 artifacts inherited from start: ~7 KB an answer, more than the room a batch starts
    // with; the second half's 120 more of their own outgrow the room the first half's made.
    const result = await runFlowCli(FLOW, ["--padding", "60"], store, { env: { SHORT_SPLITS_RAN_LOG: ranLog } });
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`ShortSplitsFlow/${result.runId}`, store);
    assert.equal(await run.artifact("total"), sumOfDoubles);
    const runs = runsBySplit(ranLog);
    assert.equal(runs.size, SPLITS);
    assert.deepEqual([...runs.values()].filter((count) => count !== 1), [], "every split ran once");
    const last = (await (await run.step("body")).tasks()).find((task) => task.index === SPLITS - 1)!;
    assert.equal(await last.artifact("pad59"), 59);
    assert.equal(await last.artifact("own119"), 119);
  });
});
