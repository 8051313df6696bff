/**
 * `@environment({ vars })`, as Metaflow's `@environment`: the variables are set while the
 * step's tasks run (every split of a foreach, however many run at once) and nowhere else.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { describeResult, fixtureFlow, readRun, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

test("@environment variables are seen by every split of the step, and not by the steps around it", async () => {
  const result = await runFlowCli(fixtureFlow("environment-vars.ts"), ["--splits", "6"], store);
  assert.equal(result.code, 0, describeResult(result));
  const join = await (await (await readRun(`EnvironmentVarsFlow/${result.runId}`, store)).step("join")).task();
  assert.deepEqual(await join.artifact("seenInSplits"), Array(6).fill("hello from @environment"));
  assert.equal(await join.artifact("seenAfter"), null);
  const start = await (await (await readRun(`EnvironmentVarsFlow/${result.runId}`, store)).step("start")).task();
  assert.equal(await start.artifact("seenBefore"), null);
});
