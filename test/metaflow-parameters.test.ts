// Follows Metaflow's test/core/tests/basic_parameters.py: parameters from defaults, the
// environment (FLOWRUN_RUN_<NAME>, as METAFLOW_RUN_<NAME>) and the command line reach every
// step with the same values, a JSONType string default is parsed, a separator splits a
// string parameter, and assigning a parameter inside a step fails.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import { describeResult, readRun, REPO, runCli, runFlowCli, tempDatastore, type FlowRunResult } from "./support/flowrun-cli.js";

const FLOW = join(REPO, "test/fixtures/metaflow/parameters-flow.ts");
const store = tempDatastore();
after(() => store.remove());

const ENV = { FLOWRUN_RUN_NO_DEFAULT_PARAM: "test_str", FLOWRUN_RUN_BOOL_PARAM: "False", FLOWRUN_RUN_INT_PARAM: "7" };

describe("parameters as in Metaflow's basic_parameters", () => {
  let result: FlowRunResult;
  before(async () => {
    result = await runFlowCli(FLOW, ["--int-param", "123", "--words", "to be or"], store, { env: ENV });
  });

  test("every step sees the values from defaults, FLOWRUN_RUN_* and the command line", async () => {
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`ParametersFlow/${result.runId}`, store);
    const expected = {
      noDefaultParam: "test_str",
      boolParam: false,
      intParam: 123,
      strParam: "foobar",
      listParam: ["a", "b", "c"],
      words: ["to", "be", "or"],
      jsonParam: { a: [1, 2, 3] },
    };
    for (const step of await run.steps()) {
      for (const task of await step.tasks()) {
        for (const [name, value] of Object.entries(expected)) {
          assert.deepEqual(await task.artifact(name), value, `${task.pathspec} ${name}`);
        }
      }
    }
    assert.deepEqual(run.parameters["list-param"], ["a", "b", "c"]);
  });

  test("assigning a parameter in a step throws a ParameterError naming it", async () => {
    const run = await readRun(`ParametersFlow/${result.runId}`, store);
    const end = await (await run.step("end")).task();
    assert.match(String(await end.artifact("refused")), /this\.intParam.*--int-param.*read-only/);
  });
  test("resume, with the environment cleared, re-runs with the origin's values", async () => {
    const unset = Object.fromEntries(Object.keys(ENV).map((name) => [name, ""]));
    const resumed = await runCli(["resume", FLOW, "end", "--origin-run-id", result.runId], { env: { ...store.env, ...unset } });
    assert.equal(resumed.code, 0, describeResult(resumed));
    const runId = /Run ParametersFlow\/(\S+) started/.exec(resumed.stdout)![1]!;
    const end = await (await (await readRun(`ParametersFlow/${runId}`, store)).step("end")).task();
    assert.equal(await end.artifact("noDefaultParam"), "test_str");
    assert.equal(await end.artifact("boolParam"), false);
    assert.deepEqual(await end.artifact("words"), ["to", "be", "or"]);
  });
});

test("an uncaught assignment to a parameter fails the task, naming the parameter and the step", async () => {
  const failed = await runFlowCli(FLOW, ["--assign-in", "body", "--words", "x"], store, { env: ENV });
  assert.equal(failed.code, 1, describeResult(failed));
  assert.match(failed.stdout + failed.stderr, /ParametersFlow\/\d[^/\s]*\/body\/\S+.*this\.intParam.*read-only/);
});

test("--help shows the separators and how the environment sets parameters", async () => {
  const help = await runCli([FLOW, "--help"]);
  assert.equal(help.code, 0, describeResult(help));
  assert.match(help.stdout, /--list-param .*split on ","/);
  assert.match(help.stdout, /--words .*split on " "/);
  assert.match(help.stdout, /FLOWRUN_RUN_NO_DEFAULT_PARAM for --no-default-param/);
});
