/**
 * `flowrun run` and the inspect commands as a user types them: the flow's --help, usage
 * errors (exit 2, saying what is wrong), the progress lines and summary, --quiet, and
 * `logs`, `dump`, `runs` on the run just made.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { describeResult, fixtureFlow, readRun, runCli, runFlowCli, tempDatastore, type FlowRunResult } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());
const FLOW = fixtureFlow("cli-params.ts");

test("flowrun <flow.ts> --help lists the parameters with types, defaults and help", async () => {
  const result = await runCli([FLOW, "--help"], { env: store.env });
  assert.equal(result.code, 0, describeResult(result));
  // A parameter's line and the lines its description wraps onto.
  const line = (flag: string) => {
    const lines = result.stdout.split("\n");
    const first = lines.findIndex((l) => l.trim().startsWith(flag));
    const more = lines.slice(first + 1);
    const end = more.findIndex((l) => !/^ {6,}\S/.test(l));
    return first < 0 ? "" : [lines[first]!, ...more.slice(0, end)].map((l) => l.trim()).join(" ");
  };
  assert.match(line("--times"), /--times <Number>\s+How many lines to print \(default: 2\)/);
  assert.match(line("--ratio"), /--ratio <Number>\s+A fraction between 0 and 1 \(default: 0\.5\)/);
  assert.match(line("--config"), /--config <JSONType>\s+Model settings as JSON \(default: \{ depth: 2 \}\)/);
  assert.match(line("--dataset"), /--dataset .*Name of the dataset to load \(required\)/);
  assert.match(line("--test-mode"), /--test-mode \/ --no-test-mode\s+Run quickly on little data/);
  // Reading the parameters runs no user code and touches no datastore.
  const again = await runCli(["run", FLOW, "--help"], { env: store.env });
  assert.equal(again.code, 0, describeResult(again));
  assert.equal(again.stdout, result.stdout);
});

describe("bad usage exits 2 with a message saying what is wrong", { concurrency: true }, () => {
  test("an unknown option lists the flow's parameters", async () => {
    const result = await runCli(["run", FLOW, "--dataset", "iris", "--bogus", "1"], { env: store.env });
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, /unknown option --bogus/);
    assert.match(result.stderr, /--test-mode, --times, --ratio, --config, --dataset/);
  });

  test("a number parameter given a non-number", async () => {
    const result = await runCli(["run", FLOW, "--dataset", "iris", "--times", "abc"], { env: store.env });
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, /--times: "abc" is not a number/);
  });

  test("a missing required parameter", async () => {
    const result = await runCli(["run", FLOW], { env: store.env });
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, /missing required parameter --dataset/);
  });

  test("bad JSON for a JSONType parameter", async () => {
    const result = await runCli(["run", FLOW, "--dataset", "iris", "--config", "{depth: 3"], { env: store.env });
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, /--config: invalid JSON/);
  });

  test("a flow file that does not exist", async () => {
    const result = await runCli(["run", "flows/DoesNotExist.ts"], { env: store.env });
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, /flows\/DoesNotExist\.ts: no such flow file/);
  });
});

test("a datastore directory whose name has a dot opens", async () => {
  const root = join(store.root, "..", "results.v2");
  const result = await runCli(["runs", "--datastore-root", root], { env: store.env });
  assert.equal(result.code, 0, describeResult(result));
});

describe("a successful run", () => {
  let result: FlowRunResult;
  let pathspec: string;
  before(async () => {
    result = await runFlowCli(FLOW, ["--dataset", "iris", "--times", "3", "--config", '{"depth": 5, "tags": ["a"]}'], store);
    assert.equal(result.code, 0, describeResult(result));
    pathspec = `CliParamsFlow/${result.runId}`;
  });

  test("typed parameters reach the artifacts", async () => {
    const run = await readRun(pathspec, store);
    assert.deepEqual(run.parameters, { "test-mode": true, times: 3, ratio: 0.5, config: { depth: 5, tags: ["a"] }, dataset: "iris" });
    assert.deepEqual(await run.artifact("config"), { depth: 5, tags: ["a"] });
    assert.equal(await run.artifact("ratio"), 0.5);
  });

  test("task lines are prefixed [Flow/run/step/task]", () => {
    const lines = result.stdout.split("\n");
    const start = `[${pathspec}/start/1]`;
    assert.ok(lines.includes(`${start} Task is starting.`), result.stdout);
    for (const text of ["line 1 of iris", "line 2 of iris", "line 3 of iris"]) assert.ok(lines.includes(`${start} ${text}`), result.stdout);
    assert.ok(lines.some((l) => /^\[CliParamsFlow\/[\w-]+\/end\/2\] done with 3 lines$/.test(l)), result.stdout);
    assert.ok(lines.some((l) => l.startsWith(`${start} Task finished successfully`)), result.stdout);
  });

  test("the summary shows the run ID and how to inspect it", () => {
    assert.match(result.stdout, new RegExp(`✓ Run ${pathspec} succeeded: 2 steps, 2 tasks`));
    assert.match(result.stdout, new RegExp(`flowrun dump ${pathspec}\\b`));
    assert.match(result.stdout, new RegExp(`flowrun logs ${pathspec}/start\\b`));
    // The store is not one a script would find by default, so the line names it.
    assert.ok(result.stdout.includes(`Run.get("${pathspec}", { datastore: { kind: "local", root: ${JSON.stringify(store.root)} } })`), result.stdout);
  });

  test("flowrun logs PATHSPEC prints the task's output", async () => {
    const logs = await runCli(["logs", `${pathspec}/start/1`], { env: store.env });
    assert.equal(logs.code, 0, describeResult(logs));
    for (const text of ["line 1 of iris", "line 2 of iris", "line 3 of iris"]) assert.match(logs.stdout, new RegExp(text));
    const stderrOnly = await runCli(["logs", `${pathspec}/start/1`, "--stderr"], { env: store.env });
    assert.equal(stderrOnly.stdout, "a note on stderr\n");
  });

  test("flowrun dump shows the end step's artifacts, --artifact one of them", async () => {
    const dump = await runCli(["dump", pathspec], { env: store.env });
    assert.equal(dump.code, 0, describeResult(dump));
    assert.match(dump.stdout, /steps: start, end/);
    assert.match(dump.stdout, /lines = \[ 'line 1 of iris', 'line 2 of iris', 'line 3 of iris' \]/);
    assert.match(dump.stdout, /dataset = 'iris'/);
    const one = await runCli(["dump", `${pathspec}/start/1`, "--artifact", "config"], { env: store.env });
    assert.equal(one.code, 0, describeResult(one));
    assert.match(one.stdout, /config = \{ depth: 5, tags: \[ 'a' \] \}/);
    assert.doesNotMatch(one.stdout, /dataset/);
  });

  test("flowrun runs lists the run", async () => {
    const runs = await runCli(["runs", "CliParamsFlow"], { env: store.env });
    assert.equal(runs.code, 0, describeResult(runs));
    const row = runs.stdout.split("\n").find((l) => l.startsWith(`${pathspec} `));
    assert.ok(row, runs.stdout);
    assert.match(row, /\bsucceeded\b/);
  });
});

describe("--quiet", () => {
  let result: FlowRunResult;
  before(async () => {
    result = await runFlowCli(FLOW, ["--dataset", "iris", "--quiet"], store);
    assert.equal(result.code, 0, describeResult(result));
  });

  test("prints no progress and ends with the run ID", () => {
    assert.ok(result.runId, "a run ID was written");
    assert.doesNotMatch(result.stdout, /Task is starting|Task finished|line 1 of iris|Inspect it/);
    assert.equal(result.stdout.trim().split("\n").at(-1), result.runId);
  });

  test("stdout is exactly the run ID, even when a task writes to stderr", () => {
    assert.equal(result.stdout, `${result.runId}\n`);
  });
});

test("--timings prints where the run's time went: the start-up phases once, worker and task phases with their counts", async () => {
  const result = await runFlowCli(fixtureFlow("cli-params.ts"), ["--dataset", "iris", "--quiet", "--timings"], store);
  assert.equal(result.code, 0, describeResult(result));
  const table = result.stderr.slice(result.stderr.indexOf("Where the time went"));
  assert.match(table, /^Where the time went \(run [\d.]+ (s|ms) from the CLI's start/);
  const row = (label: string) => new RegExp(`^  ${label.replace(/[()]/g, "\\$&")} +\\d+ ms(  (\\d+) (tasks?|workers?))?$`, "m").exec(table);
  for (const label of ["CLI start (process to run start)", "flow graph", "compile the flow", "open the datastore", "parameters (first worker)"]) {
    assert.ok(row(label), `${label} in:\n${table}`);
  }
  const tasks = (await readRun(`CliParamsFlow/${result.runId}`, store)).metadata.stats?.tasks ?? NaN;
  for (const label of ["step bodies (user code)", "save artifacts", "commit tasks"]) assert.equal(Number(row(label)?.[2]), tasks, `${label} counts every task:\n${table}`);
  const workers = Number(row("worker boot")?.[2]);
  assert.ok(workers >= 1 && workers <= tasks + 1, `one boot per worker:\n${table}`);
});
