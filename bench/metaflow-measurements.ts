/**
 * Metaflow timed in the same bench invocation as flowrun, on the same machine and load, when
 * `METAFLOW_SRC` names a Metaflow source checkout (a clone of Netflix/metaflow, which runs
 * from source given a python3 with the `requests` package). Without it nothing here runs and rows
 * carry no Metaflow figure: an old constant measured on another day would mislead more than
 * an empty cell.
 *
 * A timing is the wall clock of `python3 bench/metaflow/<flow>.py run`, the Python twin of a
 * flowrun bench flow, each run in a fresh local datastore and a fresh METAFLOW_HOME, so
 * neither a user's ~/.metaflowconfig (an S3 datastore, say) nor an earlier `.metaflow`
 * changes what is measured. Two things of the environment, not of Metaflow, are taken out:
 * a version manager's `python3` shim (pyenv's costs ~0.3 s of bash per start; runs use the
 * interpreter it resolves to), and PYTHONDONTWRITEBYTECODE, under which every Metaflow task
 * process would compile Metaflow's sources again (twice the CPU of its imports); a pip-installed
 * Metaflow has its bytecode compiled at install, so METAFLOW_SRC gets it compiled once here.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO_ROOT, formatSamples, median, tempWorkspace } from "./cli-process.js";
import type { BenchContext } from "./context.js";

const PYTHON = "python3";
const GNU_TIME = "/usr/bin/time";
const FLOW_DIR = join(REPO_ROOT, "bench", "metaflow");
/**
 * Splits of the per-task measurement. Metaflow starts a process per task (~0.8 s of CPU, so
 * ~0.4 s each on 2 idle cores), so flowrun's 1,000 would take 7 minutes or more; the cost per
 * task is the same.
 */
const DEFAULT_SPLITS = 100;
/** Prints the Python version, Metaflow's version, where Metaflow was imported from and the real interpreter. */
const PROBE = "import os, sys, metaflow; print(sys.version.split()[0]); print(metaflow.__version__); print(os.path.dirname(metaflow.__file__)); print(sys.executable)";

export type MetaflowMeasurement = "linear10" | "hello" | "foreachPerTask";

/** Seconds of Metaflow for one row (per task for `foreachPerTask`), with how they were taken. */
export interface MetaflowTiming {
  seconds: number;
  note: string;
}

export interface MetaflowSetup {
  src: string;
  /** The interpreter `python3` resolves to (past any shim). */
  python: string;
  /** e.g. "Metaflow 2.19.38 (git 2.19.38-1-gd2dd7f953) from /tmp/metaflow-src on Python 3.11.7" */
  description: string;
}

/** `METAFLOW_SRC`, resolved; undefined when unset; throws when it holds no Metaflow. */
export function metaflowSource(): string | undefined {
  const value = process.env.METAFLOW_SRC;
  if (!value) return undefined;
  const src = resolve(value);
  if (!existsSync(join(src, "metaflow", "__init__.py"))) {
    throw new Error(`METAFLOW_SRC=${value} has no metaflow/__init__.py: point it at a Metaflow source checkout (git clone https://github.com/Netflix/metaflow), or unset it to bench flowrun alone`);
  }
  return src;
}

/**
 * Checks once per invocation that python3 imports Metaflow from METAFLOW_SRC (the bench
 * runner calls it before measuring anything, so a wrong path fails in one line, not after
 * minutes of flowrun runs); undefined when METAFLOW_SRC is unset.
 */
export function metaflowSetup(ctx: BenchContext): Promise<MetaflowSetup | undefined> {
  return ctx.shared("metaflow-setup", async () => {
    const src = metaflowSource();
    if (!src) return undefined;
    const { python, version, executable } = await probe(src);
    // Idempotent (skips what is up to date); a read-only checkout just stays uncompiled.
    await runPython(executable, src, ["-m", "compileall", "-q", join(src, "metaflow")], REPO_ROOT, {});
    const git = existsSync(join(src, ".git")) ? spawnSync("git", ["-C", src, "describe", "--tags", "--always", "--dirty"], { encoding: "utf8" }).stdout?.trim() : "";
    return { src, python: executable, description: `Metaflow ${version}${git ? ` (git ${git})` : ""} from ${src} on Python ${python} (${executable})` };
  });
}

/** Imports Metaflow from `src` with `python3`; throws a one-line reason when it cannot. */
async function probe(src: string): Promise<{ python: string; version: string; executable: string }> {
  const ws = tempWorkspace("metaflow-probe");
  const run = await runPython(PYTHON, src, ["-c", PROBE], ws.dir, localEnv(ws.dir)).finally(ws.dispose);
  if (run.exitCode !== 0) {
    // Metaflow imports `requests` at start-up (its metadata-service plugin): a bare system Python lacks it.
    const missing = /No module named '([^']+)'/.exec(run.output)?.[1];
    const hint = missing ? ` (this ${PYTHON} lacks the module ${missing}: pip install ${missing.split(".")[0]})` : "";
    throw new Error(`${PYTHON} cannot import Metaflow from METAFLOW_SRC=${src}: ${lastLines(run.output, 1)}${hint}`);
  }
  const [python, version, imported, executable] = run.stdout.trim().split("\n");
  // Another Metaflow (pip-installed, or ahead on PYTHONPATH) would be measured instead.
  if (!imported || realpathSync(imported) !== realpathSync(join(src, "metaflow"))) {
    throw new Error(`${PYTHON} imports Metaflow from ${imported} instead of METAFLOW_SRC=${src}`);
  }
  if (!python || !version || !executable) throw new Error(`${PYTHON} printed an unexpected probe of Metaflow: ${lastLines(run.stdout, 4)}`);
  return { python, version, executable };
}

/**
 * Metaflow's figure for a row, measured once per invocation (rows asking again share it);
 * undefined when METAFLOW_SRC is unset. `foreachPerTask` is per task: (wall of N splits -
 * wall of 1 split) / (N - 1), N from METAFLOW_SPLITS (default 100).
 */
export async function measureMetaflow(ctx: BenchContext, which: MetaflowMeasurement): Promise<MetaflowTiming | undefined> {
  const setup = await metaflowSetup(ctx);
  if (!setup) return undefined;
  return ctx.shared(`metaflow-${which}`, () => {
    if (which === "foreachPerTask") return perTask(ctx, setup);
    return which === "hello" ? wholeRun(ctx, setup, "hello.py", ["--name", "Ada"]) : wholeRun(ctx, setup, "linear_ten.py", []);
  });
}

/** The row note when Metaflow was not measured. */
export function metaflowNote(timing: MetaflowTiming | undefined): string {
  return timing?.note ?? "Metaflow not measured: `METAFLOW_SRC=path/to/metaflow npm run bench` times it side by side";
}

async function wholeRun(ctx: BenchContext, setup: MetaflowSetup, file: string, args: string[]): Promise<MetaflowTiming> {
  ctx.log(`Metaflow: ${file} x${ctx.repeat}`);
  const runs = await repeatRun(ctx, setup, file, args, ctx.repeat);
  const walls = runs.map((r) => r.wallS);
  return { seconds: median(walls), note: `Metaflow: ${runCommand(file, args, ctx)}, ${runs.length > 1 ? `median of ${runs.length} runs, each in a fresh datastore` : "1 run in a fresh datastore"}${formatSamples(walls, "s")}; ${cpuNote(runs)}` };
}

async function perTask(ctx: BenchContext, setup: MetaflowSetup): Promise<MetaflowTiming> {
  const splits = metaflowSplits();
  ctx.log(`Metaflow: trivial_foreach.py, 1 split x${ctx.repeat} and ${splits} splits once (~${Math.round(splits * 0.4)} s on 2 idle cores)`);
  const base = await repeatRun(ctx, setup, "trivial_foreach.py", ["--splits", "1"], ctx.repeat);
  const many = await runFlow(setup, "trivial_foreach.py", ["--splits", String(splits), "--max-num-splits", String(Math.max(splits, 100)), ...sameMaxWorkers(ctx)]);
  const baseWall = median(base.map((r) => r.wallS));
  const baseCpu = medianCpu(base);
  const cpuPerTask = many.cpuS !== null && baseCpu !== null ? `; CPU per task (all Metaflow processes): ${(((many.cpuS - baseCpu) * 1000) / (splits - 1)).toFixed(0)} ms` : "";
  return {
    seconds: (many.wallS - baseWall) / (splits - 1),
    note:
      `Metaflow per task: (wall of ${splits} splits ${many.wallS.toFixed(1)} s - wall of 1 split ${baseWall.toFixed(2)} s, median of ${base.length}) / ${splits - 1}` +
      `${cpuPerTask}; ${runCommand("trivial_foreach.py", [], ctx)}; METAFLOW_SPLITS=N sets the split count`,
  };
}

function metaflowSplits(): number {
  const value = process.env.METAFLOW_SPLITS;
  if (!value) return DEFAULT_SPLITS;
  const splits = Number(value);
  if (!Number.isInteger(splits) || splits < 2) throw new Error(`METAFLOW_SPLITS=${value}: needs a whole number >= 2`);
  return splits;
}

interface MetaflowRun {
  wallS: number;
  /** User + system seconds of Metaflow and the task processes it waited for (GNU time only). */
  cpuS: number | null;
}

async function repeatRun(ctx: BenchContext, setup: MetaflowSetup, file: string, args: string[], times: number): Promise<MetaflowRun[]> {
  const runs: MetaflowRun[] = [];
  for (let i = 0; i < times; i++) runs.push(await runFlow(setup, file, [...args, ...sameMaxWorkers(ctx)]));
  return runs;
}

/** One `python3 <flow>.py run` in its own temporary directory (datastore, config, cwd). */
async function runFlow(setup: MetaflowSetup, file: string, args: string[]): Promise<MetaflowRun> {
  const ws = tempWorkspace("metaflow");
  try {
    const timeFile = join(ws.dir, "time");
    const gnuTime = existsSync(GNU_TIME) ? [GNU_TIME, "-f", "%U %S", "-o", timeFile] : [];
    const run = await runPython(setup.python, setup.src, [join(FLOW_DIR, file), "--quiet", "--no-pylint", "run", ...args], ws.dir, localEnv(ws.dir), gnuTime);
    if (run.exitCode !== 0) throw new Error(`Metaflow ${file} ${args.join(" ")} exited with ${run.exitCode}: ${failure(run.output)}`);
    const [user, system] = existsSync(timeFile) ? (readFileSync(timeFile, "utf8").trim().split("\n").at(-1) ?? "").split(" ").map(Number) : [];
    return { wallS: run.wallMs / 1000, cpuS: user !== undefined && system !== undefined && Number.isFinite(user + system) ? user + system : null };
  } finally {
    ws.dispose();
  }
}

/** Local datastore and metadata under `dir`, and no user config (which could name S3 or a metadata service). */
function localEnv(dir: string): NodeJS.ProcessEnv {
  return {
    USERNAME: "flowrun-bench",
    METAFLOW_HOME: join(dir, "home"),
    METAFLOW_DEFAULT_DATASTORE: "local",
    METAFLOW_DEFAULT_METADATA: "local",
    METAFLOW_DATASTORE_SYSROOT_LOCAL: dir,
  };
}

/**
 * Spawns `python` with METAFLOW_SRC first on PYTHONPATH, writing bytecode. `output` keeps the tail of stdout and
 * stderr together, for error messages; `stdout` is whole (only the probe prints much to it).
 */
function runPython(
  python: string,
  src: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  prefix: string[] = [],
): Promise<{ exitCode: number; wallMs: number; stdout: string; output: string }> {
  const argv = [...prefix, python, ...args];
  const pythonPath = [src, process.env.PYTHONPATH].filter(Boolean).join(":");
  return new Promise((done, fail) => {
    const started = performance.now();
    const { PYTHONDONTWRITEBYTECODE: _, ...inherited } = process.env;
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env: { ...inherited, ...env, PYTHONPATH: pythonPath }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let output = "";
    const keep = (b: Buffer) => void (output = (output + b.toString()).slice(-8192));
    child.stdout.on("data", (b: Buffer) => void ((stdout += b.toString()), keep(b)));
    child.stderr.on("data", keep);
    const timeout = setTimeout(() => child.kill("SIGKILL"), 30 * 60_000);
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timeout);
      fail(error.code === "ENOENT" ? new Error(`${PYTHON} is not on PATH: METAFLOW_SRC needs it to run Metaflow`) : error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timeout);
      done({ exitCode: code ?? (signal ? 128 : 1), wallMs: performance.now() - started, stdout, output });
    });
  });
}

/** flowrun's `--max-workers N` (an extra run option) goes to Metaflow too; both default to 16. */
function sameMaxWorkers(ctx: BenchContext): string[] {
  const i = ctx.extraArgs.findIndex((a) => a === "--max-workers" || a.startsWith("--max-workers="));
  if (i < 0) return [];
  const arg = ctx.extraArgs[i]!;
  const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : ctx.extraArgs[i + 1];
  return value ? ["--max-workers", value] : [];
}

function runCommand(file: string, args: string[], ctx: BenchContext): string {
  const workers = sameMaxWorkers(ctx);
  return `python3 bench/metaflow/${file} run${args.length ? ` ${args.join(" ")}` : ""}${workers.length ? ` ${workers.join(" ")}` : " (default --max-workers 16)"}`;
}

function medianCpu(runs: readonly MetaflowRun[]): number | null {
  const cpu = runs.map((r) => r.cpuS).filter((c): c is number => c !== null);
  return cpu.length ? median(cpu) : null;
}

function cpuNote(runs: readonly MetaflowRun[]): string {
  const cpu = medianCpu(runs);
  return cpu === null ? "CPU not measured (no GNU time)" : `CPU of all its processes: ${cpu.toFixed(2)} s${runs.length > 1 ? " (median)" : ""}`;
}

function lastLines(output: string, n: number): string {
  return output.trim().split("\n").slice(-n).join(" / ") || "(no output)";
}

/**
 * A failed run's cause in one line: Metaflow ends with "Step join (task-id 3) failed." after
 * the task's traceback, so the last exception line (without the log prefix) says more.
 */
function failure(output: string): string {
  const lines = output.split("\n").map((l) => l.replace(/^\d{4}-\d\d-\d\d [\d:.]+ (\[[^\]]*\] )?/, "").trim());
  const exception = lines.findLast((l) => /^[\w.]*(Error|Exception)\b.*:/.test(l));
  const step = lines.findLast((l) => /^Step .* failed\.$/.test(l));
  return exception ? `${step ? `${step} ` : ""}${exception}` : lastLines(output, 4);
}
