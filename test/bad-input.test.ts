/**
 * Bad input (issue 3, item 7): each is exit code 2 with one line that names what is wrong
 * and where (plus at most a hint line), before any task runs, and nothing already committed
 * is lost. Covered elsewhere: an unknown option, a wrong-typed value, a missing required
 * parameter, bad JSON and a missing flow file (test/cli-run.test.ts); foreach over a
 * non-array or past --max-num-splits (test/flow-nested-foreach.test.ts); a switch value with
 * no branch (test/flow-switch.test.ts); resume of a run that does not exist
 * (test/resume.test.ts).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Flow } from "../src/index.js";
import { lineOf } from "./support/fixture-markers.js";
import { describeResult, inNamespace, readRun, REPO, runCli, runFlowCli, tempDatastore, type CliResult, type TempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

const FAULTS = `${REPO}test/fixtures/faults`;
const fixture = (name: string) => `${FAULTS}/${name}`;
const LABELLED = fixture("LabelledFlow.ts");

/** Exit 2, stderr is `flowrun: <what and where>` plus at most a hint line, and no task started. */
function assertUsageError(result: CliResult & { runId?: string }, what: RegExp): void {
  assert.equal(result.code, 2, describeResult(result));
  const lines = result.stderr.trimEnd().split("\n");
  assert.match(lines[0]!, /^flowrun: /, describeResult(result));
  assert.match(lines[0]!, what, describeResult(result));
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith("  hint: ")), `one line and a hint:\n${result.stderr}`);
  assert.doesNotMatch(result.stdout, /Task is starting|started \(datastore/, "nothing ran");
  if ("runId" in result) assert.equal(result.runId, "", "no run was started");
}

async function runsOf(flow: string, where: TempDatastore = store): Promise<string[]> {
  return (await inNamespace(null, () => new Flow(flow, { datastore: where.datastore }).runs())).map((r) => r.id);
}

/** A run that succeeded before the bad invocations; it must come through them whole. */
let kept: string;
before(async () => {
  const result = await runFlowCli(LABELLED, ["--label", "kept", "--splits", "2", "--sleep-ms", "0"], store);
  assert.equal(result.code, 0, describeResult(result));
  kept = result.runId;
});

describe("a flow file that cannot be used", { concurrency: true }, () => {
  test("a syntax error names file:line", async () => {
    const file = fixture("SyntaxErrorFlow.ts");
    const result = await runFlowCli(file, [], store);
    assertUsageError(result, new RegExp(`${file}:${lineOf(file, "bad-input: syntax error")}: syntax error: ',' expected`));
  });

  test("a file TypeScript parses but tsx cannot compile names file:line and the compiler's message", async () => {
    const file = fixture("StripErrorFlow.ts");
    const result = await runFlowCli(file, [], store);
    assertUsageError(result, new RegExp(`cannot load the flow: ${file}:${lineOf(file, "bad-input: strip error")}:\\d+: ERROR: The symbol "total" has already been declared`));
    assert.deepEqual(await runsOf("StripErrorFlow"), []);
  });

  test("a default export that is not a FlowSpec class", async () => {
    const file = fixture("NotAFlowSpec.ts");
    const result = await runFlowCli(file, [], store);
    assertUsageError(result, new RegExp(`${file}: the file exports no FlowSpec class`));
    assert.deepEqual(await runsOf("NotAFlowSpec"), []);
  });

  test("a top-level import that fails names the module and the line that imports it", async () => {
    const file = fixture("BrokenImportFlow.ts");
    const result = await runFlowCli(file, [], store);
    const line = lineOf(file, "bad-input: import fails");
    assertUsageError(result, new RegExp(`${file}: cannot load the flow: ${file}:${line}:\\d+: ERROR: Cannot find module '${FAULTS}/no-such-helper\\.js'`));
    assert.deepEqual(await runsOf("BrokenImportFlow"), []);
  });

  test("an unknown parameter (--name=value) lists the valid ones", async () => {
    const result = await runFlowCli(LABELLED, ["--lable=x"], store);
    assertUsageError(result, /unknown option --lable/);
    assert.match(result.stderr, /parameters of LabelledFlow: --label, --splits, --sleep-ms/);
  });
});

describe("a datastore that cannot be used", { concurrency: true }, () => {
  test("a read-only .flowrun/ directory", async (t) => {
    const readOnly = tempDatastore();
    t.after(() => {
      chmodSync(readOnly.root, 0o755);
      readOnly.remove();
    });
    mkdirSync(readOnly.root, { recursive: true });
    chmodSync(readOnly.root, 0o555);
    // root writes through 0555: run the CLI as `nobody` then (it must reach the directory).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chmodSync(join(readOnly.root, ".."), 0o755);
    const result = await runCliAs(asRoot ? 65534 : undefined, ["run", LABELLED], readOnly.env);
    if (result.spawnError) {
      t.skip(`running as root, and the CLI cannot be started as uid 65534 to make 0555 bite (${result.spawnError})`);
      return;
    }
    assertUsageError(result, new RegExp(`local datastore ${readOnly.root} is not writable`));
  });

  test("a corrupt data.mdb: the CLI says so instead of crashing, and leaves the file alone", async (t) => {
    const corrupt = tempDatastore();
    t.after(() => corrupt.remove());
    mkdirSync(corrupt.root, { recursive: true });
    const garbage = Buffer.from("this is not an LMDB file\n".repeat(4000));
    writeFileSync(join(corrupt.root, "data.mdb"), garbage);
    const corruptLine = new RegExp(`local datastore ${corrupt.root} is corrupt: ${corrupt.root}/data\\.mdb: it is not an LMDB file`);
    const run = await runFlowCli(LABELLED, [], corrupt);
    assertUsageError(run, corruptLine);
    const runs = await runCli(["runs"], { env: corrupt.env });
    assertUsageError(runs, corruptLine);
    assert.ok(readFileSync(join(corrupt.root, "data.mdb")).equals(garbage), "data.mdb was not rewritten");
  });
});

test("the run that succeeded before is still there, whole", async () => {
  assert.deepEqual(await runsOf("LabelledFlow"), [kept], "no bad invocation added or removed a run");
  const run = await readRun(`LabelledFlow/${kept}`, store);
  assert.equal(run.successful, true);
  assert.deepEqual(await run.artifact("stamps"), [`kept/${kept}/0`, `kept/${kept}/1`]);
});

/** `flowrun ...args`, optionally as another user (uid and gid `uid`). */
function runCliAs(uid: number | undefined, args: string[], env: Record<string, string>): Promise<CliResult & { spawnError?: string }> {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(REPO, "src/cli/main.ts"), ...args], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((resolve) => {
    child.on("error", (error) => resolve({ code: -1, stdout, stderr, spawnError: error.message }));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}
