/**
 * Follows Metaflow's test/core/tests/basic_foreach.py and nested_foreach.py: `this.index` and
 * `this.input` stay the same in every step between a foreach split and its join (innermost
 * foreach wins), `this.foreachStack()` lists `{ step, index, numSplits, value }` outermost
 * first, and after a join the next-outer foreach applies again. The run checked is a resume
 * (test/fixtures/metaflow/ForeachContextFlow.ts), so cloned and re-run tasks both count.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Run, Task } from "../src/index.js";
import { describeResult, readRun, REPO, runCli, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const FLOW = join(REPO, "test/fixtures/metaflow/ForeachContextFlow.ts");
const LETTERS = ["a", "b", "c"];
const NUMBERS = [10, 20];
const store = tempDatastore();
after(() => store.remove());

interface Seen {
  index: number | string;
  input: unknown;
  stack: { step: string; index: number; numSplits: number; value: unknown }[];
}

const letterFrame = (i: number) => ({ step: "start", index: i, numSplits: 3, value: LETTERS[i] });
const numberFrame = (j: number) => ({ step: "outer", index: j, numSplits: 2, value: NUMBERS[j] });

async function seenBy(run: Run, step: string, artifact: string): Promise<{ task: Task; seen: Seen }[]> {
  const tasks = await (await run.step(step)).tasks();
  return Promise.all(tasks.map(async (task) => ({ task, seen: await task.artifact<Seen>(artifact) })));
}

describe("foreach context in every step of the body (resumed after a later body step failed)", () => {
  let run: Run;
  before(async () => {
    const failed = await runFlowCli(FLOW, [], store, { env: { FOREACH_FAIL_LATER: "1" } });
    assert.equal(failed.code, 1, describeResult(failed));
    const idFile = join(store.root, "..", "resumed-run-id");
    const resumed = await runCli(["resume", FLOW, "--origin-run-id", failed.runId, "--run-id-file", idFile], { env: store.env });
    assert.equal(resumed.code, 0, describeResult(resumed));
    run = await readRun(`ForeachContextFlow/${readFileSync(idFile, "utf8").trim()}`, store);
    assert.ok(run.successful);
  });

  test("the first and a later step of a nested body see the innermost element and the whole stack", async () => {
    for (const artifact of ["first", "later"]) {
      const seen = await seenBy(run, artifact === "first" ? "inner" : "innerLater", artifact);
      assert.equal(seen.length, 6);
      for (const [n, { task, seen: s }] of seen.entries()) {
        const i = Math.floor(n / 2);
        const j = n % 2;
        assert.deepEqual(s, { index: j, input: NUMBERS[j], stack: [letterFrame(i), numberFrame(j)] }, `${artifact} in ${task.pathspec}`);
        assert.equal(task.index, j);
      }
    }
  });

  test("the element values read from the stack make every combination once", async () => {
    const data = await run.data();
    assert.deepEqual(data.byLetter, LETTERS.map((l) => NUMBERS.map((n) => `${l}${n}`)));
  });

  test("after the inner join, and in a static branch inside the outer foreach, the outer foreach applies", async () => {
    const afterJoin = await seenBy(run, "joinInner", "afterInnerJoin");
    assert.deepEqual(afterJoin.map(({ seen }) => seen), LETTERS.map((l, i) => ({ index: i, input: l, stack: [letterFrame(i)] })));
    for (const step of ["left", "right"]) {
      const branch = await seenBy(run, step, "branch");
      assert.deepEqual(branch.map(({ seen }) => seen), LETTERS.map((l, i) => ({ index: i, input: l, stack: [letterFrame(i)] })), step);
      assert.deepEqual(branch.map(({ task }) => task.index), [0, 1, 2]);
    }
  });

  test("outside any foreach: this.index throws a clear error, this.input is undefined, the stack is empty", async () => {
    for (const [step, artifact] of [["start", "atStart"], ["joinOuter", "afterOuterJoin"]] as const) {
      const { seen } = (await seenBy(run, step, artifact))[0]!;
      assert.match(String(seen.index), /this\.index is only set between a foreach split and its join/, step);
      assert.equal(seen.input, null, step);
      assert.deepEqual(seen.stack, [], step);
    }
  });

  test("resume cloned the tasks before the failure and re-ran the rest", async () => {
    const start = await (await run.step("start")).task();
    assert.ok(start.clonedFrom, "start was cloned");
    const later = await (await run.step("innerLater")).tasks();
    assert.ok(later.some((t) => !t.clonedFrom), "the failed split ran again");
  });
});
