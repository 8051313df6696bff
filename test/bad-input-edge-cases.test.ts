/**
 * Bad input at the edges (issue 9, item 8): each is exit code 2 with one line that says what
 * is wrong (plus at most a hint line), never "unexpected error"; what a step throws fails its
 * task with an error that says what was thrown. The main cases are in test/bad-input.test.ts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Flow, NotFoundError } from "../src/index.js";
import { lineOf } from "./support/fixture-markers.js";
import { describeResult, inNamespace, readRun, REPO, runCli, runFlowCli, tempDatastore, type CliResult } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

const fault = (name: string) => `${REPO}test/fixtures/faults/${name}`;
const LABELLED = fault("LabelledFlow.ts");
const PARAMETER_NAMES = `${REPO}test/fixtures/invalid/parameter-name.ts`;

/** Exit 2 and stderr is `flowrun: <what>` plus at most a hint line. */
function assertOneLine(result: CliResult, what: RegExp): void {
  assert.equal(result.code, 2, describeResult(result));
  const lines = result.stderr.trimEnd().split("\n");
  assert.match(lines[0]!, /^flowrun: /, describeResult(result));
  assert.doesNotMatch(lines[0]!, /unexpected error/, describeResult(result));
  assert.match(lines[0]!, what, describeResult(result));
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith("  hint: ")), `one line and a hint:\n${result.stderr}`);
}

const runIds = async (flow: string): Promise<string[]> =>
  (await inNamespace(null, () => new Flow(flow, { datastore: store.datastore }).runs())).map((r) => r.id);

let kept: string;
before(async () => {
  const result = await runFlowCli(LABELLED, ["--splits", "1", "--sleep-ms", "0"], store);
  assert.equal(result.code, 0, describeResult(result));
  kept = result.runId;
});

describe("pathspecs and artifact names", { concurrency: true }, () => {
  test("a 10,000-character pathspec part is refused by name, before the datastore sees it", async () => {
    const long = "A".repeat(10_000);
    assertOneLine(await runCli(["dump", `${long}/1`], { env: store.env }), /flow name "A{20}…" \(10000 characters\) is not a flow class name/);
    assertOneLine(await runCli(["dump", `LabelledFlow/${"1".repeat(10_000)}`], { env: store.env }), /run ID "1{20}…" \(10000 characters\) is not a run ID/);
    assertOneLine(await runCli(["logs", `LabelledFlow/${kept}/${long}`], { env: store.env }), /step name "A{20}…" \(10000 characters\) is not a step name/);
    assertOneLine(await runCli(["runs", long], { env: store.env }), /flow name "A{20}…" \(10000 characters\) is not a flow class name/);
  });

  for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    test(`an artifact named ${name} is a missing artifact, through dump and the client`, async () => {
      assertOneLine(await runCli(["dump", `LabelledFlow/${kept}`, "--artifact", name], { env: store.env }), new RegExp(`/end/\\d+ has no artifact '${name}'`));
      const run = await readRun(`LabelledFlow/${kept}`, store);
      await assert.rejects(run.artifact(name), (error) => error instanceof NotFoundError && error.message.endsWith(`has no artifact '${name}'`));
    });
  }
});

describe("run options", { concurrency: true }, () => {
  test("--run-id-file naming a directory is refused before the run is recorded", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "flowrun-run-id-dir-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const result = await runCli(["run", LABELLED, "--run-id-file", dir], { env: store.env });
    assertOneLine(result, new RegExp(`--run-id-file ${dir} is a directory`));
    assert.deepEqual(await runIds("LabelledFlow"), [kept], "no run record was left behind");
  });

  for (const spec of ["timeout:seconds=-1", "timeout:minutes=0", "retry:times=1.5", "resources:memory=0"]) {
    test(`--with ${spec} is refused`, async () => {
      const result = await runFlowCli(LABELLED, ["--with", spec], store);
      assertOneLine(result, new RegExp(`--with ${spec}: .* must be `));
      assert.equal(result.runId, "", "no run was started");
    });
  }

  test("parameter names the command line could never set: check and run refuse them at file:line", async () => {
    const workers = `${PARAMETER_NAMES}:${lineOf(PARAMETER_NAMES, '"max-workers"')}`;
    const proto = `${PARAMETER_NAMES}:${lineOf(PARAMETER_NAMES, '"__proto__"')}`;
    const check = await runCli(["check", PARAMETER_NAMES]);
    assert.equal(check.code, 2, describeResult(check));
    assert.match(check.stdout + check.stderr, new RegExp(`${workers}:\\d+.*parameter \`max-workers\` has the name of a run option \\(--max-workers\\)`));
    assert.match(check.stdout + check.stderr, new RegExp(`${proto}:\\d+.*parameter name \`__proto__\` must start with a letter`));
    const run = await runFlowCli(PARAMETER_NAMES, ["--max-workers", "2"], store);
    assert.equal(run.code, 2, describeResult(run));
    assert.match(run.stderr, /parameter `max-workers` has the name of a run option/);
    assert.equal(run.runId, "", "no run was started");
  });
});

describe("what a task reports", { concurrency: true }, () => {
  test("throw Symbol() says it was a symbol", async () => {
    const result = await runFlowCli(fault("ThrowSymbolFlow.ts"), [], store);
    assert.equal(result.code, 1, describeResult(result));
    assert.match(result.stderr, /ThrowSymbolFlow\/[\w-]+\/start\/1: non-Error value thrown: Symbol\(not an error\)$/m);
  });

  test("running out of heap without @resources names the limit that applied and how to set one", async () => {
    const result = await runFlowCli(fault("OutOfMemoryFlow.ts"), [], store, { env: { NODE_OPTIONS: "--max-old-space-size=100" } });
    assert.equal(result.code, 1, describeResult(result));
    assert.match(result.stderr, /start\/1: TaskFailedError: task ran out of memory: its worker reached Node's default heap limit of about \d+ MB$/m);
    assert.match(result.stderr, /hint: set a limit with @resources\(\{ memory: MB \}\) \(or --with resources:memory=MB\), or process the data in smaller pieces/);
  });
});

test("an empty FLOWRUN_DATASTORE_ROOT is an error, not the current directory", async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), "flowrun-empty-root-"));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  mkdirSync(join(cwd, "sub"));
  for (const args of [["runs"], ["run", LABELLED]]) {
    assertOneLine(await runCli(args, { cwd, env: { FLOWRUN_DATASTORE: "local", FLOWRUN_DATASTORE_ROOT: "" } }), /FLOWRUN_DATASTORE_ROOT is set but empty/);
  }
  assertOneLine(await runCli(["runs", "--datastore-root", ""], { cwd, env: store.env }), /--datastore-root is empty/);
  assert.equal(existsSync(join(cwd, "data.mdb")), false);
  assert.equal(existsSync(join(cwd, ".flowrun")), false);
});
