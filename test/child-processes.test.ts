/**
 * Processes a task starts end with the task. A step that spawns `sleep 1000` with its output
 * inherited (and the same through exec, execFile, fork, `detached`, and a grandchild behind
 * `sh -c`) must not keep `flowrun run FLOW | cat` waiting on the pipe, nor outlive the CLI:
 * whether the step returns, throws, or is stopped by its @timeout or a second Ctrl-C.
 *
 * The step writes the pids it started to a file; after the CLI exits, none of them runs.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { REPO, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
const FLOW = join(REPO, "test/fixtures/processes/ChildProcessFlow.ts");
const TSX = import.meta.resolve("tsx");
const CLI = join(REPO, "src/cli/main.ts");
/** Far longer than a run takes on a loaded machine: reaching it means the output is held open. */
const OUTPUT_LIMIT_MS = 90_000;

const pidFiles: string[] = [];
after(() => {
  // A failing test must not leave its sleeps behind.
  for (const pid of pidFiles.flatMap(startedPids)) if (isRunning(pid)) process.kill(pid, "SIGKILL");
  store.remove();
});

function startedPids(file: string): number[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number) : [];
}

/** Running: exists and is not a zombie (an exited child nobody has waited for yet). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2)[0]!);
  } catch {
    return false;
  }
}

interface Ended {
  /** flowrun's exit code, or "held" when its output had not closed after OUTPUT_LIMIT_MS. */
  code: number | "held";
  output: string;
}

/** `flowrun run FLOW ...args` in its own process group, output piped to this test. */
function startCli(args: string[], pipeThroughCat: boolean): ChildProcessWithoutNullStreams {
  const command = [process.execPath, "--import", TSX, CLI, "run", FLOW, ...args];
  const quoted = command.map((a) => `'${a}'`).join(" ");
  const [file, ...rest] = pipeThroughCat ? ["sh", "-c", `(${quoted}; echo "flowrun exited $?") | cat`] : command;
  return spawn(file!, rest, { cwd: REPO, env: { ...process.env, NO_COLOR: "1", ...store.env }, detached: true });
}

/** Waits until nothing holds the CLI's stdout and stderr any more: the CLI and whatever inherited them. */
function outputClosed(child: ChildProcessWithoutNullStreams): Promise<Ended> {
  child.stdin.end();
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => {
      process.kill(-child.pid!, "SIGKILL");
      resolve({ code: "held", output });
    }, OUTPUT_LIMIT_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(limit);
      resolve({ code: Number(/flowrun exited (\d+)/.exec(output)?.[1] ?? code), output });
    });
  });
}

function assertEnded(ended: Ended, pidsFile: string, exitCode: number, outcome: RegExp): void {
  assert.notEqual(ended.code, "held", `the CLI's output was still held open ${OUTPUT_LIMIT_MS / 1000} s later: a process the step started keeps it\n${ended.output}`);
  const pids = startedPids(pidsFile);
  assert.equal(pids.length, 7, `the step wrote the pids it started\n${ended.output}`);
  assert.deepEqual(pids.filter(isRunning), [], `processes the step started still run after the CLI exited\n${ended.output}`);
  assert.equal(ended.code, exitCode, ended.output);
  assert.match(ended.output, outcome);
}

describe("processes a step started end with its task", { concurrency: true }, () => {
  for (const [ending, exitCode] of [["return", 0], ["throw", 1], ["hang", 1]] as const) {
    test(`a step that ${ending === "hang" ? "is stopped by @timeout" : ending + "s"} while its processes run: they end with it`, async () => {
      const pidsFile = join(store.root, "..", `${ending}.pids`);
      pidFiles.push(pidsFile);
      const ended = await outputClosed(startCli(["--ending", ending, "--pids-file", pidsFile], true));
      assertEnded(ended, pidsFile, exitCode, ending === "return" ? /succeeded/ : ending === "throw" ? /failed after starting processes/ : /timed out/);
    });
  }

  test("a second Ctrl-C stops the task and its processes", async () => {
    const pidsFile = join(store.root, "..", "cancelled.pids");
    pidFiles.push(pidsFile);
    const cli = startCli(["--ending", "hang", "--pids-file", pidsFile], false);
    const ended = outputClosed(cli);
    while (startedPids(pidsFile).length < 7) await sleep(50);
    cli.kill("SIGINT");
    await sleep(200);
    cli.kill("SIGINT");
    assertEnded(await ended, pidsFile, 1, /cancelled/);
  });
});
