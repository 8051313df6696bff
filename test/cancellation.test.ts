/**
 * Ctrl-C: SIGINT (or SIGTERM) to a running `flowrun run` stops scheduling, lets the running
 * splits finish and commit, records the run as cancelled and exits 1 within seconds; then
 * `flowrun resume` finishes it, running only the splits that never started. Splits are
 * counted by a side effect (each appends its index to FLAKY_LOG when it starts), as in
 * test/resume.test.ts, not by timing.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Flow } from "../src/index.js";
import { describeResult, inNamespace, readRun, REPO, runCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

const FLOW = join(REPO, "test/fixtures/resume/FlakyForeachFlow.ts");
const SPLITS = 20;
// 20 splits of 300 ms, two at a time: about 3 s of work, so the signal lands mid-foreach.
const RUN_ARGS = ["--splits", String(SPLITS), "--sleep-ms", "300", "--fail-at", "-1", "--max-workers", "2"];
const TSX = import.meta.resolve("tsx");
const CLI = join(REPO, "src/cli/main.ts");

/** Split indices that started, in the order they did. */
function started(log: string): number[] {
  return existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).map(Number) : [];
}

interface Interrupted {
  code: number | null;
  output: string;
  /** Milliseconds from the signal to the CLI's exit. */
  exitMs: number;
}

/** `flowrun run` the flow, and send `signal` once `splits` splits have started. */
function runAndInterrupt(signal: NodeJS.Signals, log: string, splits: number, runIdFile: string): Promise<Interrupted> {
  const child = spawn(process.execPath, ["--import", TSX, CLI, "run", FLOW, ...RUN_ARGS, "--run-id-file", runIdFile], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: "1", ...store.env, FLAKY_LOG: log },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
  let signalledAt = 0;
  const poll = setInterval(() => {
    if (started(log).length >= splits) {
      clearInterval(poll);
      signalledAt = performance.now();
      child.kill(signal);
    }
  }, 20);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(poll);
      resolve({ code, output, exitMs: signalledAt ? performance.now() - signalledAt : NaN });
    });
  });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  test(`${signal} cancels the run, keeps the splits that finished, and resume runs only the rest`, async () => {
    const log = join(store.root, "..", `${signal}.log`);
    const runIdFile = join(store.root, "..", `${signal}.run-id`);
    const interrupted = await runAndInterrupt(signal, log, 4, runIdFile);
    const detail = `exit ${interrupted.code}\n${interrupted.output}`;
    assert.equal(interrupted.code, 1, detail);
    assert.ok(interrupted.exitMs < 5000, `exited ${Math.round(interrupted.exitMs)} ms after ${signal}\n${detail}`);
    assert.match(interrupted.output, new RegExp(`${signal}: stopping`));
    assert.match(interrupted.output, /Resume: flowrun resume .*FlakyForeachFlow\.ts --origin-run-id/);

    const run = await readRun(`FlakyForeachFlow/${readFileSync(runIdFile, "utf8").trim()}`, store);
    assert.equal(run.status, "cancelled");
    assert.equal(run.finished, true);
    // Every split that had started when the signal came finished and committed; none after.
    const before = started(log);
    const splits = await (await run.step("body")).tasks();
    const committed = splits.filter((t) => t.successful).map((t) => t.index!);
    assert.deepEqual([...committed].sort((a, b) => a - b), [...before].sort((a, b) => a - b), "the committed splits are exactly those that started");
    assert.ok(committed.length >= 4 && committed.length < SPLITS, `${committed.length} of ${SPLITS} splits committed`);
    await assert.rejects(run.step("join"), /has no tasks/);

    rmSync(log);
    const resumed = await runCli(["resume", FLOW, "--origin-run-id", run.id], { env: { ...store.env, FLAKY_LOG: log } });
    assert.equal(resumed.code, 0, describeResult(resumed));
    const rerun = started(log);
    assert.deepEqual(rerun.filter((i) => committed.includes(i)), [], "no committed split ran again");
    assert.equal(new Set([...rerun, ...committed]).size, SPLITS, "every split either ran again or was cloned");
    assert.equal(rerun.length, SPLITS - committed.length, "each remaining split ran once");
    const latest = (await inNamespace(null, () => new Flow("FlakyForeachFlow", { datastore: store.datastore }).latestRun()));
    assert.equal(latest.originRunId, run.id);
    assert.equal(latest.successful, true);
    assert.deepEqual(await latest.artifact("squares"), Array.from({ length: SPLITS }, (_, i) => i * i));
  });
}
