/**
 * `npm run bench [-- FILTER...] [--quick] [--repeat N] [--list] [-- flowrun run options]`
 *
 * Runs the measurements of bench/measurements.ts whose id contains one of the filters
 * (all when none), each against the real CLI in a fresh temporary datastore, and prints one
 * table. `--quick` skips the slow ones (10,000 splits, 500 MB). Options the bench does not
 * know (`--max-workers 2`) are passed to every measured `flowrun run`.
 */
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { createContext } from "./context.js";
import { rssMethod } from "./cli-process.js";
import { measurements, printTable, type BenchRow } from "./measurements.js";

function parse(argv: string[]) {
  const filters: string[] = [];
  const extraArgs: string[] = [];
  let quick = false;
  let list = false;
  let repeat: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") quick = true;
    else if (arg === "--list") list = true;
    else if (arg === "--repeat") repeat = Number(argv[++i]);
    else if (arg.startsWith("--")) {
      extraArgs.push(arg);
      if (!arg.includes("=") && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) extraArgs.push(argv[++i]!);
    } else filters.push(arg);
  }
  if (repeat !== undefined && !(Number.isInteger(repeat) && repeat >= 1)) throw new Error("--repeat needs a whole number >= 1");
  return { filters, extraArgs, quick, list, repeat: repeat ?? (quick ? 1 : 3) };
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
  const loadBefore = loadavg()[0]!;
  const ctx = createContext(options);
  const rows: BenchRow[] = [];
  let failed = false;
  for (const m of selected) {
    ctx.log(`${m.id}: ${m.description}`);
    const started = performance.now();
    try {
      rows.push(...(await m.run(ctx)));
    } catch (error) {
      failed = true;
      rows.push({ measurement: m.id, value: null, unit: "", notes: [`failed: ${(error as Error).message}`] });
    }
    ctx.log(`${m.id} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  process.stdout.write(
    `\nflowrun bench — ${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}, ` +
      `source mode (tsx); peak RSS via ${rssMethod === "gnu-time" ? "/usr/bin/time -f %M (ru_maxrss of the CLI process)" : "polling VmHWM in /proc/<pid>/status"}; ` +
      `every flowrun run is --quiet in a fresh datastore${options.extraArgs.length ? `; extra run options: ${options.extraArgs.join(" ")}` : ""}\n` +
      // Wall clock means little on a busy machine: say how busy it was.
      `1-min load average: ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end\n\n`,
  );
  printTable(rows);
  return failed ? 1 : 0;
}

process.exitCode = await main();
