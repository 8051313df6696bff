// A step never computes with a Parameter declaration in place of its value: a parameter the
// run did not resolve fails the task, naming the parameter.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { describeResult, fixtureFlow, readRun, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

test("a parameter field without a value in the run fails its task naming the parameter", async () => {
  const result = await runFlowCli(fixtureFlow("late-parameter.ts"), [], store);
  assert.equal(result.code, 1, describeResult(result));
  assert.match(result.stdout + result.stderr, /parameter --late \(this\.late\) has no value in this run/);
  const run = await readRun(`LateParameterFlow/${result.runId}`, store);
  assert.equal(run.status, "failed");
});
