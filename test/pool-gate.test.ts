/**
 * How wide a step's worker pool opens (runtime/executor/pool-gate.ts): one worker while its
 * tasks are trivial, one per core once they prove longer, and up to --max-workers once every
 * running task has run for the long patience. Tasks here are promises the test settles; a
 * task's start probe says when it "started".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { PoolGate } from "../runtime/executor/pool-gate.js";

/** Lets `count` tasks into `gate`, each started `startedAgoMs` before it was let through. */
function runTasks(gate: PoolGate, count: number, startedAgoMs: number): { started: () => number; finishAll: () => Promise<void> } {
  let started = 0;
  let finishing = false;
  const finishers: Array<() => void> = [];
  const all: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    all.push(
      gate.run(
        () => {
          started++;
          return finishing ? Promise.resolve() : new Promise<void>((resolve) => finishers.push(resolve));
        },
        () => Date.now() - startedAgoMs,
      ),
    );
  }
  // Ends every task, those still waiting too, so the gate stops watching.
  const finishAll = async () => {
    finishing = true;
    finishers.forEach((finish) => finish());
    await Promise.all(all);
  };
  return { started: () => started, finishAll };
}

test("tasks that stay short keep the pool at one worker", async () => {
  const gate = new PoolGate(16, 4);
  const tasks = runTasks(gate, 6, 0);
  await sleep(80);
  assert.equal(tasks.started(), 1);
  assert.equal(gate.width, 1);
  await tasks.finishAll();
});

test("once every running task has run for a while, the pool opens to one worker per core, and no further before the long patience", async () => {
  const gate = new PoolGate(16, 4, 400);
  const tasks = runTasks(gate, 6, 30);
  await sleep(80);
  assert.equal(gate.width, 4);
  assert.equal(tasks.started(), 4);
  await tasks.finishAll();
});

test("running long past the patience opens the pool to --max-workers", async () => {
  const gate = new PoolGate(16, 2, 40);
  const tasks = runTasks(gate, 6, 1000);
  await sleep(150);
  assert.equal(tasks.started(), 6);
  await tasks.finishAll();
});

test("widenToCores lets one task per core run at once", async () => {
  const gate = new PoolGate(16, 3);
  const tasks = runTasks(gate, 5, 0);
  assert.equal(tasks.started(), 1);
  gate.widenToCores();
  assert.equal(tasks.started(), 3);
  await tasks.finishAll();
});
