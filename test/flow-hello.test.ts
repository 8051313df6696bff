/**
 * flows/Hello.ts end to end: command-line parameters of every type reach the steps as
 * artifacts, and the run records them.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { describeResult, exampleFlow, readRun, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());
const HELLO = exampleFlow("Hello.ts");

describe("HelloFlow", { concurrency: true }, () => {
  test("--name, --times and --no-test-mode reach the artifacts", async () => {
    const result = await runFlowCli(HELLO, ["--name", "Ada", "--times", "3", "--no-test-mode"], store);
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`HelloFlow/${result.runId}`, store);
    assert.equal(run.successful, true);
    assert.deepEqual(run.parameters, { name: "Ada", times: 3, "test-mode": false });
    const data = await run.data();
    assert.equal(data.who, "Ada");
    assert.equal(data.times, 3);
    assert.equal(data.testMode, false);
    assert.equal(data.greeting, "Hello, Ada!");
    assert.deepEqual(data.repeated, ["Hello, Ada!", "Hello, Ada!", "Hello, Ada!"]);
    // Parameters are artifacts of every task, not only of start.
    const repeat = await (await run.step("repeat")).task();
    assert.equal(await repeat.artifact("who"), "Ada");
    assert.equal(await repeat.artifact("times"), 3);
  });

  test("defaults apply, and test-mode defaults to true outside --production", async () => {
    const result = await runFlowCli(HELLO, [], store);
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`HelloFlow/${result.runId}`, store);
    assert.deepEqual(run.parameters, { name: "world", times: 2, "test-mode": true });
    assert.equal(await run.artifact("testMode"), true);
    assert.deepEqual(await run.artifact("repeated"), ["Hello, world!", "Hello, world!"]);
  });

  test("--test-mode=false and --name=value forms", async () => {
    const result = await runFlowCli(HELLO, ["--test-mode=false", "--name=Grace Hopper", "--times=1"], store);
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`HelloFlow/${result.runId}`, store);
    assert.equal(await run.artifact("testMode"), false);
    assert.deepEqual(await run.artifact("repeated"), ["Hello, Grace Hopper!"]);
    const start = await (await run.step("start")).task();
    assert.match(await start.stdout(), /greeting Grace Hopper in run /);
  });
});
