/**
 * Errors point at the user's code: a flow whose module throws while loading (its own code or
 * a module of the user's it imports) names that file:line:col in one line; a step that stores
 * a class instance names the artifact and the line that assigned it (else the step's line);
 * an error thrown outside the step's call (from a timer) names its line too; and a join that
 * reads `inputs.<name>` that is none of its branches is a `check` error, found statically, so
 * `run` refuses the flow before anything runs.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { lineOf } from "./support/fixture-markers.js";
import { describeResult, readRun, REPO, runCli, runFlowCli, tempDatastore, type CliResult } from "./support/flowrun-cli.js";

const FAULTS = `${REPO}test/fixtures/faults`;
const store = tempDatastore();
after(() => store.remove());

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Exit 2, one `flowrun: ...` line and a hint line, no stack dump. */
function assertOneLine(result: CliResult, what: RegExp): void {
  assert.equal(result.code, 2, describeResult(result));
  const lines = result.stderr.trimEnd().split("\n");
  assert.match(lines[0]!, what, describeResult(result));
  assert.ok(lines.length === 2 && lines[1]!.startsWith("  hint: "), `one line and a hint:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr + result.stdout, /^\s+at /m, "no stack trace");
}

describe("a flow whose module throws while loading", { concurrency: true }, () => {
  const JSON_ERROR = "SyntaxError: Expected property name or '}' in JSON at position 2";

  test("at the top level of the flow file: file:line:col of the throw", async () => {
    const file = `${FAULTS}/ModuleThrowFlow.ts`;
    const result = await runFlowCli(file, [], store);
    assertOneLine(result, new RegExp(`^flowrun: ${escape(file)}: cannot load the flow: ${escape(file)}:${lineOf(file, "the module's throw")}:\\d+: ${escape(JSON_ERROR)}`));
    assert.match(result.stderr, /hint: .*top level.*runs when the flow loads/);
    assert.equal(result.runId, "", "no run started");
  });

  test("in a module of the user's that the flow imports: that module's file:line:col", async () => {
    const file = `${FAULTS}/ImportedThrowFlow.ts`;
    const helper = `${FAULTS}/load-settings.ts`;
    const result = await runFlowCli(file, [], store);
    assertOneLine(result, new RegExp(`^flowrun: ${escape(file)}: cannot load the flow: ${escape(helper)}:${lineOf(helper, "the imported module's throw")}:\\d+: ${escape(JSON_ERROR)}`));
  });
});

describe("a class instance stored as an artifact", { concurrency: true }, () => {
  const FLOW = `${FAULTS}/InstanceArtifactFlow.ts`;

  async function failedTrain(how: string) {
    const result = await runFlowCli(FLOW, ["--how", how], store);
    assert.equal(result.code, 1, describeResult(result));
    const run = await readRun(`InstanceArtifactFlow/${result.runId}`, store);
    return { result, task: await (await run.step("train")).task() };
  }

  test("names the artifact's path and the line that assigned it", async () => {
    const { result, task } = await failedTrain("assigned");
    const line = lineOf(FLOW, "the assignment");
    const message = `this.model is an instance of class Model; artifacts must be plain data (assigned in step train at ${FLOW}:${line})`;
    assert.equal(task.exception?.name, "ArtifactError");
    assert.equal(task.exception?.message, message);
    assert.equal(task.exception?.source, `${FLOW}:${line}`);
    assert.ok(result.stderr.includes(`${task.pathspec}: ArtifactError: ${message}`), describeResult(result));
    assert.match(result.stderr, new RegExp(`^\\s+at .*${escape(FLOW)}:${line}:\\d+\\)?$`, "m"), "the line is shown as the error's frame");
  });

  test("a value nested in the artifact: the path inside it, and the assignment of the artifact", async () => {
    const { task } = await failedTrain("nested");
    const line = lineOf(FLOW, "the nested assignment");
    assert.equal(task.exception?.message, `this.config.model is an instance of class Model; artifacts must be plain data (assigned in step train at ${FLOW}:${line})`);
  });

  test("set where no assignment shows: the step's line", async () => {
    const { result, task } = await failedTrain("dynamic");
    const line = lineOf(FLOW, "the step's line");
    assert.equal(task.exception?.message, `this.trained is an instance of class Model; artifacts must be plain data (in step train at ${FLOW}:${line})`);
    assert.equal(task.exception?.source, `${FLOW}:${line}`);
    const logs = await runCli(["logs", task.pathspec, "--stderr"], { env: store.env });
    assert.ok(logs.stdout.includes(`ArtifactError: ${task.exception?.message}`), describeResult(logs));
    assert.ok(result.stderr.includes(task.exception!.message), describeResult(result));
  });
});

describe("an error thrown from a step's timer, which ends its worker thread", () => {
  const FLOW = `${FAULTS}/TimerThrowFlow.ts`;

  test("fails the task naming the error and the line that threw it", async () => {
    const result = await runFlowCli(FLOW, [], store);
    assert.equal(result.code, 1, describeResult(result));
    const line = lineOf(FLOW, "the timer's throw");
    const run = await readRun(`TimerThrowFlow/${result.runId}`, store);
    const task = await (await run.step("start")).task();
    assert.match(task.exception?.message ?? "", /lost its worker thread: the cache went away/);
    assert.equal(task.exception?.source, `${FLOW}:${line}`);
    assert.match(result.stderr, new RegExp(`^\\s+at .*${escape(FLOW)}:${line}:\\d+\\)?$`, "m"), "the line is shown as the error's frame");
  });
});

describe("a join reading an input that is none of its branches", { concurrency: true }, () => {
  const FLOW = `${REPO}test/fixtures/invalid/join-unknown-input.ts`;

  test("is a `check` error at file:line, with the branch it probably meant", async () => {
    const result = await runCli(["check", FLOW]);
    assert.equal(result.code, 2, describeResult(result));
    const typo = `${FLOW}:${lineOf(FLOW, "inputs.trainTre")}:\\d+ error \\[unknown-input\\] join \`choose\` reads \`inputs\\.trainTre\`, but its inputs come from \`trainTree\` and \`train\``;
    assert.match(result.stdout, new RegExp(`${typo}\n  hint: did you mean \`inputs\\.trainTree\`\\?`), result.stdout);
    const destructured = `${FLOW}:${lineOf(FLOW, "const { nope }")}:\\d+ error \\[unknown-input\\] join \`choose\` reads \`inputs\\.nope\``;
    assert.match(result.stdout, new RegExp(destructured), result.stdout);
    assert.match(result.stdout, /✗ 2 errors/);
  });

  test("so `run` refuses the flow before any task", async () => {
    const result = await runFlowCli(FLOW, [], store);
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, new RegExp(`^flowrun: ${escape(FLOW)}:${lineOf(FLOW, "inputs.trainTre")}: join \`choose\` reads \`inputs\\.trainTre\``));
    assert.equal(result.runId, "");
  });

  test("branch names, array members, string and dynamic keys, and a foreach join's inputs are accepted, and run", async () => {
    const flow = `${REPO}test/fixtures/flows/join-inputs.ts`;
    const check = await runCli(["check", flow]);
    assert.equal(check.code, 0, describeResult(check));
    assert.doesNotMatch(check.stdout, /unknown-input/);
    const result = await runFlowCli(flow, [], store);
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`JoinInputsFlow/${result.runId}`, store);
    assert.deepEqual(await (await (await run.step("meet")).task()).artifact("sides"), ["left", "right", "left", "2", "left", "right", "left", "right"]);
  });
});
