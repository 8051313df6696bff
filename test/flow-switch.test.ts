/**
 * Switch (flows/SwitchFlow.ts): a string artifact chooses exactly one next step; one case
 * loops back to an earlier step until a condition holds; no join is needed. And a value
 * that no case names fails the step.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Run } from "../src/index.js";
import { describeResult, exampleFlow, fixtureFlow, readRun, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());
const SWITCH = exampleFlow("SwitchFlow.ts");

async function taskCounts(run: Run): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all((await run.steps()).map(async (s) => [s.name, (await s.tasks()).length])));
}

async function stateHistory(run: Run): Promise<string[]> {
  const checks = await (await run.step("check")).tasks();
  return Promise.all(checks.map((t) => t.artifact<string>("state")));
}

describe("switch", { concurrency: true }, () => {
  test("the loop runs until the condition holds, then only the chosen branch runs", async () => {
    // poll and check each run three times in their step's warm (reused) worker: every
    // pass must see the task the previous pass committed.
    const result = await runFlowCli(SWITCH, ["--batches", "3"], store);
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`SwitchLoopFlow/${result.runId}`, store);
    assert.deepEqual(await taskCounts(run), { start: 1, poll: 3, check: 3, route: 1, quick: 1, end: 1 });
    assert.deepEqual(await stateHistory(run), ["waiting", "waiting", "ready"]);
    await assert.rejects(run.step("thorough"), /has no tasks/);
    const data = await run.data();
    assert.deepEqual(data.polled, [1, 2, 3]);
    assert.equal(data.total, 6);
    assert.equal(data.size, "small");
    assert.equal(data.path, "quick");
  });

  test("the other value picks the other branch (no loop)", async () => {
    const result = await runFlowCli(SWITCH, ["--batches", "1", "--threshold", "0"], store);
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`SwitchLoopFlow/${result.runId}`, store);
    assert.deepEqual(await taskCounts(run), { start: 1, poll: 1, check: 1, route: 1, thorough: 1, end: 1 });
    await assert.rejects(run.step("quick"), /has no tasks/);
    assert.equal(await run.artifact("path"), "thorough");
  });

  test("a switch value with no branch fails the step with exit 1", async () => {
    const result = await runFlowCli(fixtureFlow("switch-no-branch.ts"), ["--size", "medium"], store);
    assert.equal(result.code, 1, describeResult(result));
    const run = await readRun(`SwitchNoBranchFlow/${result.runId}`, store);
    const start = await (await run.step("start")).task();
    assert.equal(start.successful, false);
    assert.equal(start.exception?.name, "TransitionError");
    assert.match(start.exception!.message, /switch on 'bucket' = "medium" has no branch/);
    assert.match(result.stderr, /switch on 'bucket' = "medium" has no branch/);
    await assert.rejects(run.step("fast"), /has no tasks/);
    await assert.rejects(run.step("slow"), /has no tasks/);
  });
});
