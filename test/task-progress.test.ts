/**
 * A batch's progress in shared memory (runtime/task-progress.ts): what the worker writes
 * there is what the main thread reads back after the worker is gone, answers whole and in
 * order, and an answer that does not fit is refused whole.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { TaskProgress } from "../runtime/task-progress.js";

const answer = (i: number) => ({ kind: "task", ok: true, artifacts: { total: { hash: `h${i}`, encoding: "msgpack", size: i } }, next: null, startedAt: 1_700_000_000_000 + i });

test("answers a worker recorded before it died read back whole and in order, with when each task started", async () => {
  const progress = TaskProgress.forTasks(3, 3 * 1024);
  // A real thread that records two answers, starts the third task and exits in it (the
  // module through tsx's hooks, registered in the thread as task workers do in a checkout).
  const worker = new Worker(
    `(async () => {
       const { workerData: { buffer, answers } } = require("node:worker_threads");
       (await import("tsx/esm/api")).register({ tsconfig: false });
       const { TaskProgress } = await import(${JSON.stringify(new URL("../runtime/task-progress.ts", import.meta.url).href)});
       const progress = new TaskProgress(buffer);
       answers.forEach((answer, i) => { progress.markStarted(i, answer.startedAt); progress.record(answer); });
       progress.markStarted(2, 1_700_000_000_009);
       process.exit(3);
     })();`,
    { eval: true, workerData: { buffer: progress.buffer, answers: [answer(0), answer(1)] } },
  );
  const code = await new Promise((resolve) => worker.on("exit", resolve));
  assert.equal(code, 3);
  assert.deepEqual(progress.recorded(), [answer(0), answer(1)]);
  assert.deepEqual([0, 1, 2].map((i) => progress.startedAt(i)), [answer(0).startedAt, answer(1).startedAt, 1_700_000_000_009]);
  assert.equal(progress.lastStart(), 1_700_000_000_009);
});

test("an answer with no room left is refused whole, and its size is kept for sizing the next batch", () => {
  const progress = TaskProgress.forTasks(2, 512);
  assert.equal(progress.startedAt(0), undefined);
  assert.equal(progress.lastStart(), undefined);
  assert.equal(progress.record(answer(0)), true);
  const big = { ...answer(1), artifacts: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`artifact${i}`, answer(i).artifacts.total])) };
  assert.equal(progress.record(big), false);
  assert.deepEqual(progress.recorded(), [answer(0)], "only the answer that fit");
  assert.ok(progress.largestAnswer() > 512, `largest answer ${progress.largestAnswer()} bytes`);
});
