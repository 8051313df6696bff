/**
 * `npm run bench [-- FILTER...] [--quick] [--repeat N] [--tmpdir DIR] [--list] [flowrun run options]`
 *
 * Runs the measurements of bench/measurements.ts whose id contains one of the filters
 * (all when none), each against the real CLI in a fresh temporary datastore, and prints one
 * table. `--quick` skips the slow ones (10,000 splits, 500 MB); `--tmpdir /dev/shm` puts the
 * datastores on a tmpfs (no fsync cost) instead of os.tmpdir(). Options the bench does not
 * know (`--max-workers 2`) are passed to every measured `flowrun run`. With
 * `METAFLOW_SRC=path/to/metaflow` (a source checkout), rows with a Metaflow counterpart also
 * time Metaflow on the same flow in the same invocation (bench/metaflow-measurements.ts).
 */
import { spawnSync } from "node:child_process";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { createContext } from "./context.js";
import { getWorkspaceBase, median, rssMethod, setWorkspaceBase } from "./cli-process.js";
import { measurements, printTable, type BenchRow } from "./measurements.js";
import { metaflowSetup } from "./metaflow-measurements.js";

const KNOWN = {
  quick: { type: "boolean" },
  list: { type: "boolean" },
  repeat: { type: "string" },
  tmpdir: { type: "string" },
} as const;

function parse(argv: string[]) {
  const { values, tokens } = parseArgs({ args: argv, options: KNOWN, strict: false, allowPositionals: true, tokens: true });
  const filters: string[] = [];
  const extraArgs: string[] = [];
  // Unknown options go to every measured `flowrun run`, with the value that follows them.
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const next = tokens[i + 1];
    if (token.kind === "positional") filters.push(token.value);
    else if (token.kind === "option" && !(token.name in KNOWN)) {
      extraArgs.push(token.rawName + (token.inlineValue ? `=${token.value}` : ""));
      if (!token.inlineValue && next?.kind === "positional") extraArgs.push(next.value), i++;
    }
  }
  const repeat = typeof values.repeat === "string" ? Number(values.repeat) : undefined;
  if (repeat !== undefined && !(Number.isInteger(repeat) && repeat >= 1)) throw new Error("--repeat needs a whole number >= 1");
  if (values.tmpdir === true) throw new Error("--tmpdir needs a directory");
  const tmp = typeof values.tmpdir === "string" ? values.tmpdir : undefined;
  return { filters, extraArgs, quick: values.quick === true, list: values.list === true, tmp, repeat: repeat ?? (values.quick ? 1 : 3) };
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  if (options.list) {
    for (const m of measurements) process.stdout.write(`${m.id.padEnd(20)} ${m.slow ? "(slow) " : ""}${m.description}\n`);
    return 0;
  }
  const selected = measurements.filter(
    (m) => (options.filters.length === 0 || options.filters.some((f) => m.id.includes(f))) && !(options.quick && m.slow),
  );
  if (selected.length === 0) {
    process.stderr.write(`no measurement matches ${options.filters.join(", ")}${options.quick ? " (without --quick's skipped ones)" : ""}; --list shows them\n`);
    return 2;
  }
  if (options.tmp) setWorkspaceBase(options.tmp);
  const loadBefore = loadavg()[0]!;
  const ctx = createContext(options);
  // A wrong METAFLOW_SRC (or no python3) stops the bench here, in one line, not after minutes of runs.
  const metaflow = await metaflowSetup(ctx).catch((error: Error) => error);
  if (metaflow instanceof Error) {
    process.stderr.write(`bench: ${metaflow.message}\n`);
    return 2;
  }
  const rows: BenchRow[] = [];
  let failed = false;
  for (const m of selected) {
    ctx.log(`${m.id}: ${m.description}`);
    const started = performance.now();
    const load = loadavg()[0]!;
    const measured: BenchRow[] = [];
    try {
      measured.push(...(await m.run(ctx)));
    } catch (error) {
      failed = true;
      measured.push({ measurement: m.id, value: null, unit: "", notes: [`failed: ${(error as Error).message}`] });
    }
    // Other processes on the machine inflate wall clock: keep how busy it was with the numbers.
    const loadNote = `1-min load average ${load.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)} while measured`;
    rows.push(...measured.map((row, i) => (i === 0 ? { ...row, notes: [...(row.notes ?? []), loadNote] } : row)));
    ctx.log(`${m.id} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  // What every Node process pays here before flowrun runs a line: machines differ most in it.
  const { NODE_EXTRA_CA_CERTS: extraCerts, ...withoutCerts } = process.env;
  const nodeStart = `Node's own start here: ${nodeStartMs(process.env).toFixed(0)} ms to the first line of a script` +
    (extraCerts ? ` (NODE_EXTRA_CA_CERTS is set, and Node reads it at every start: ${nodeStartMs(withoutCerts).toFixed(0)} ms without it)` : "");
  const workerCost = `A Node worker thread with nothing in it costs ${bareWorkerCpuMs().toFixed(0)} ms of CPU here to start and stop: ` +
    "every step of a run has workers of its own, so a linear flow's steps cost at least that each, before flowrun loads anything";
  process.stdout.write(
    `\nflowrun bench — ${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, ` +
      `the built CLI (bin/flowrun, dist/); peak RSS via ${rssMethod === "gnu-time" ? "/usr/bin/time -f %M (ru_maxrss of the CLI process)" : "polling VmHWM in /proc/<pid>/status"}; ` +
      `every flowrun run is --quiet in a fresh datastore under ${getWorkspaceBase()}${options.extraArgs.length ? `; extra run options: ${options.extraArgs.join(" ")}` : ""}\n` +
      (metaflow ? `${metaflow.description}, every run in a fresh local datastore\n` : "") +
      `${nodeStart}\n${workerCost}\n` +
      // Wall clock means little on a busy machine: say how busy it was.
      `1-min load average: ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end\n\n`,
  );
  printTable(rows);
  return failed ? 1 : 0;
}

/** `performance.now()` at a script's first line (it counts from the process's start), median of 5. */
function nodeStartMs(env: NodeJS.ProcessEnv): number {
  const samples = Array.from({ length: 5 }, () => Number(spawnSync(process.execPath, ["-p", "performance.now()"], { env, encoding: "utf8" }).stdout));
  return median(samples);
}

/** CPU (all threads) of starting an empty worker thread and waiting for it to end, per worker: 10 in a row, in a fresh process. */
function bareWorkerCpuMs(): number {
  const script = `const { Worker } = require("node:worker_threads");
    (async () => {
      const before = process.cpuUsage();
      for (let i = 0; i < 10; i++) await new Promise((resolve) => new Worker("", { eval: true }).on("exit", resolve));
      const { user, system } = process.cpuUsage(before);
      console.log((user + system) / 1000 / 10);
    })();`;
  return Number(spawnSync(process.execPath, ["-e", script], { encoding: "utf8" }).stdout);
}

process.exitCode = await main();
