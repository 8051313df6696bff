/**
 * Runs the real CLI as users get it (`bin/flowrun run ...`, what `npx flowrun` runs;
 * `npm run bench` builds it first) as a child process in a
 * fresh temporary datastore, and measures what a user would: wall clock from spawn to
 * exit, and the peak resident set of the CLI process (its worker threads included, since
 * threads share the process).
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -f %M`, the kernel's ru_maxrss of the
 * child, written to a file so it cannot mix with the CLI's stderr). Without it we poll
 * VmHWM in /proc/<pid>/status every 20 ms: VmHWM is the kernel's own high-water mark, so
 * a poll only misses growth in the last interval before exit.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const GNU_TIME = "/usr/bin/time";

export type RssMethod = "gnu-time" | "proc-vmhwm-poll";

/** `FLOWRUN_BENCH_RSS=poll` forces the /proc poll (to cross-check the two). */
export const rssMethod: RssMethod = existsSync(GNU_TIME) && process.env.FLOWRUN_BENCH_RSS !== "poll" ? "gnu-time" : "proc-vmhwm-poll";

export interface CliRun {
  exitCode: number;
  /** `Date.now()` at spawn: compare with the run's task records (same clock). */
  spawnedAt: number;
  wallMs: number;
  /** Peak RSS of the CLI process in MB (2^20 bytes); null if it could not be read. */
  peakRssMb: number | null;
  /**
   * User + system CPU seconds of the CLI process, all threads (GNU time only). Less
   * sensitive than wall clock to other processes competing for the cores.
   */
  cpuS: number | null;
  stdout: string;
  stderr: string;
  runId?: string;
  /** The run's datastore (a `--datastore-root`), for reading it back with the client. */
  datastoreRoot: string;
}

let workspaceBase = tmpdir();

/**
 * Where temporary datastores go (`--tmpdir`, default os.tmpdir()). Pointing it at a tmpfs
 * (/dev/shm) takes the disk's fsync out of the numbers: the difference is what durability costs.
 */
export function setWorkspaceBase(dir: string): void {
  workspaceBase = resolve(dir);
}

export function getWorkspaceBase(): string {
  return workspaceBase;
}

/** A fresh directory for one measurement; `dispose` removes it (and every datastore in it). */
export function tempWorkspace(label: string): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(workspaceBase, `flowrun-bench-${label}-`));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunCliOptions {
  /** Flow file, relative to the repo root. */
  flow: string;
  /** Flow parameters and run options after the flow file. */
  args?: string[];
  /** Directory to hold the datastore; a subdirectory `ds` is used (see the lmdb note below). */
  workspace: string;
  /** Kill the CLI after this long (default 30 min). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * `node dist/src/cli/main.js` instead of `bin/flowrun`: the CLI without what its launcher
   * sets up (huge pages for large buffers), for a baseline.
   */
  withoutLauncher?: boolean;
}

let runCounter = 0;

/** One `flowrun run`, always `--quiet` (so output volume is not what is measured). */
export async function runCli(options: RunCliOptions): Promise<CliRun> {
  const n = ++runCounter;
  // A subdirectory without a dot: lmdb treats a path whose basename has an extension
  // (mkdtemp's `tmp.XXXX`) as a single file and fails on an existing directory.
  const datastoreRoot = join(options.workspace, `ds${n}`);
  const runIdFile = join(options.workspace, `run-id-${n}`);
  const rssFile = join(options.workspace, `rss-${n}`);
  const cli = [
    ...(options.withoutLauncher ? [process.execPath, "dist/src/cli/main.js"] : [join(REPO_ROOT, "bin/flowrun")]), "run", options.flow,
    "--datastore-root", datastoreRoot, "--run-id-file", runIdFile, "--quiet", ...(options.args ?? []),
  ];
  const argv = rssMethod === "gnu-time" ? [GNU_TIME, "-f", "%M %U %S", "-o", rssFile, ...cli] : cli;
  const spawnedAt = Date.now();
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => stdout.push(b));
  child.stderr.on("data", (b: Buffer) => stderr.push(b));
  let polledKb = 0;
  const poll = rssMethod === "proc-vmhwm-poll"
    ? setInterval(() => void readVmHwmKb(child.pid!).then((kb) => (polledKb = Math.max(polledKb, kb ?? 0))), 20)
    : undefined;
  const timeout = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30 * 60_000);
  const exitCode = await new Promise<number>((done, fail) => {
    child.once("error", fail);
    child.once("close", (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
  const wallMs = performance.now() - started;
  clearTimeout(timeout);
  if (poll) clearInterval(poll);
  const measured = rssMethod === "gnu-time" ? parseGnuTime(rssFile) : { peakKb: polledKb || null, cpuS: null };
  const peakKb = measured.peakKb;
  return {
    exitCode,
    spawnedAt,
    wallMs,
    peakRssMb: peakKb === null ? null : peakKb / 1024,
    cpuS: measured.cpuS,
    stdout: Buffer.concat(stdout).toString(),
    stderr: Buffer.concat(stderr).toString(),
    runId: existsSync(runIdFile) ? readFileSync(runIdFile, "utf8").trim() : undefined,
    datastoreRoot,
  };
}

/** GNU time writes "Command exited with non-zero status N" before its line when the CLI fails. */
function parseGnuTime(file: string): { peakKb: number | null; cpuS: number | null } {
  if (!existsSync(file)) return { peakKb: null, cpuS: null };
  const [kb, user, system] = (readFileSync(file, "utf8").trim().split("\n").at(-1) ?? "").split(" ").map(Number);
  return {
    peakKb: kb !== undefined && Number.isFinite(kb) && kb > 0 ? kb : null,
    cpuS: user !== undefined && system !== undefined && Number.isFinite(user + system) ? user + system : null,
  };
}

async function readVmHwmKb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // exited between polls
  }
}

/** Throws with the CLI's own error output when the run did not succeed. */
export function assertSucceeded(run: CliRun, what: string): void {
  if (run.exitCode === 0 && run.runId) return;
  const detail = (run.stderr.trim() || run.stdout.trim()).split("\n").slice(0, 6).join(" / ");
  throw new Error(`${what}: flowrun exited with ${run.exitCode}${detail ? `: ${detail}` : ""}`);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `times` runs of the same command, each in its own datastore; throws on the first failure. */
export async function runCliRepeatedly(options: RunCliOptions, times: number, what: string): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  for (let i = 0; i < times; i++) {
    const run = await runCli(options);
    assertSucceeded(run, what);
    runs.push(run);
  }
  return runs;
}

export function formatSamples(values: readonly number[], unit: string, digits = 2): string {
  return values.length > 1 ? ` (samples: ${values.map((v) => v.toFixed(digits)).join(", ")} ${unit})` : "";
}
