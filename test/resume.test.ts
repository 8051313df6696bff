// resume: a new run that clones every committed task of the origin and re-runs only the rest,
// including after the CLI was killed with SIGKILL in the middle of a foreach.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Flow, namespace } from "../src/index.js";

const repo = new URL("..", import.meta.url).pathname;
const FLOW = "test/fixtures/resume/FlakyForeachFlow.ts";
const root = mkdtempSync(join(tmpdir(), "flowrun-resume-"));
after(() => rmSync(root, { recursive: true, force: true }));
namespace(null);

function cli(args: string[], env: Record<string, string>, onSpawn?: (kill: () => void) => void) {
  return new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: repo,
      env: { ...process.env, FLOWRUN_DATASTORE_ROOT: root, ...env },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    onSpawn?.(() => child.kill("SIGKILL"));
    child.on("close", (code, signal) => resolve({ code, signal, out }));
  });
}

const executed = (log: string) => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map(Number) : []);
const runs = () => new Flow("FlakyForeachFlow", { datastore: { kind: "local", root } }).runs();

test("a failed split is the only one that runs again", async () => {
  const log = join(root, "failed.log");
  const first = await cli(["run", FLOW, "--splits", "12", "--fail-at", "3"], { FLAKY_LOG: log });
  assert.equal(first.code, 1, first.out);
  assert.match(first.out, /split 3 is broken/);
  assert.match(first.out, /flowrun resume .*--origin-run-id/);
  rmSync(log);
  const second = await cli(["resume", FLOW], { FLAKY_LOG: log, FLAKY_FIXED: "1" });
  assert.equal(second.code, 0, second.out);
  assert.deepEqual(executed(log), [3]);
  const [resumed, origin] = await runs();
  assert.equal(resumed!.originRunId, origin!.id);
  assert.deepEqual(await resumed!.artifact("squares"), Array.from({ length: 12 }, (_, i) => i * i));
  const body = await (await resumed!.step("body")).tasks();
  assert.equal(body.filter((t) => t.clonedFrom !== null).length, 11);
});

test("resume after SIGKILL of the CLI re-runs only the splits that had not committed", async () => {
  const log = join(root, "killed.log");
  const killed = await cli(["run", FLOW, "--splits", "200", "--fail-at", "-1", "--sleep-ms", "40", "--max-workers", "4"], { FLAKY_LOG: log }, (kill) => {
    const timer = setInterval(() => {
      if (executed(log).length >= 40) {
        clearInterval(timer);
        kill();
      }
    }, 20);
  });
  assert.equal(killed.signal, "SIGKILL");
  const origin = (await runs())[0]!;
  assert.equal(origin.status, "crashed", "a killed run shows as crashed, not running");
  const committed = new Set((await (await origin.step("body")).tasks()).filter((t) => t.successful).map((t) => t.index!));
  assert.ok(committed.size > 0 && committed.size < 200, `committed ${committed.size}`);

  rmSync(log);
  const resumed = await cli(["resume", FLOW, "--origin-run-id", origin.id], { FLAKY_LOG: log });
  assert.equal(resumed.code, 0, resumed.out);
  const rerun = executed(log);
  assert.equal(rerun.filter((i) => committed.has(i)).length, 0, "no committed split ran again");
  assert.equal(new Set([...rerun, ...committed]).size, 200, "every split either ran again or was cloned");
  const latest = (await runs())[0]!;
  assert.equal(latest.originRunId, origin.id);
  assert.deepEqual(await latest.artifact("squares"), Array.from({ length: 200 }, (_, i) => i * i));
});

test("resume of a run that does not exist is a usage error", async () => {
  const result = await cli(["resume", FLOW, "--origin-run-id", "123-abc"], {});
  assert.equal(result.code, 2);
  assert.match(result.out, /run FlakyForeachFlow\/123-abc does not exist/);
});

test("resume refuses new parameter values", async () => {
  const result = await cli(["resume", FLOW, "--splits", "5"], {});
  assert.equal(result.code, 2);
  assert.match(result.out, /resume reuses the origin run's parameters/);
});
