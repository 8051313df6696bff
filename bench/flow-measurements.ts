/** Whole-run measurements: a cold Hello, a 10-step line, foreach fan-outs of trivial tasks. */
import { availableParallelism } from "node:os";
import { formatSamples, median, runCli, runCliRepeatedly, assertSucceeded, tempWorkspace, type CliRun } from "./cli-process.js";
import type { BenchContext, Measurement } from "./context.js";
import { measureMetaflow, metaflowNote } from "./metaflow-measurements.js";
import type { BenchRow } from "./table.js";
import { describePhases, openRun, parseTimings, percentile, runPhases, stepTasks } from "./task-timing.js";

function cpuNote(runs: readonly CliRun[]): string {
  const cpu = runs.map((r) => r.cpuS).filter((c): c is number => c !== null);
  return cpu.length ? `CPU time of the CLI process (user+sys, all threads): ${median(cpu).toFixed(2)} s${runs.length > 1 ? " (median)" : ""}` : "CPU time not measured (no GNU time)";
}

async function phasesNote(cli: CliRun, flow: string): Promise<string> {
  const run = await openRun(cli.datastoreRoot, flow, cli.runId!);
  return describePhases(await runPhases(run, cli));
}

const hello: Measurement = {
  id: "hello",
  description: "cold `flowrun run flows/Hello.ts`: wall clock and peak RSS of the CLI process",
  async run(ctx) {
    const ws = tempWorkspace("hello");
    try {
      const runs = await runCliRepeatedly({ flow: "flows/Hello.ts", args: ["--name", "Ada", ...ctx.extraArgs], workspace: ws.dir }, ctx.repeat, "Hello");
      const walls = runs.map((r) => r.wallMs / 1000);
      const rss = runs.map((r) => r.peakRssMb ?? NaN);
      const typical = runs.find((r) => r.wallMs / 1000 === median(walls)) ?? runs[0]!;
      const metaflow = await measureMetaflow(ctx, "hello");
      return [
        { measurement: "cold run flows/Hello.ts: wall", value: median(walls), unit: "s", target: { op: "<=", value: 0.5 }, metaflow: metaflow?.seconds, notes: [`median of ${runs.length} fresh processes and datastores${formatSamples(walls, "s")}; the compiled flow stays cached between runs, as when a user runs a flow again`, await phasesNote(typical, "HelloFlow"), cpuNote(runs), metaflowNote(metaflow)] },
        { measurement: "cold run flows/Hello.ts: peak RSS", value: Math.max(...rss), unit: "MB", notes: [`max over runs${formatSamples(rss, "MB", 0)}`] },
      ];
    } finally {
      ws.dispose();
    }
  },
};

const linear10: Measurement = {
  id: "linear-10",
  description: "a 10-step linear flow of trivial steps: wall clock",
  async run(ctx) {
    const ws = tempWorkspace("linear");
    try {
      const runs = await runCliRepeatedly({ flow: "bench/flows/LinearTenFlow.ts", args: ["--timings", ...ctx.extraArgs], workspace: ws.dir }, ctx.repeat, "10-step linear");
      const walls = runs.map((r) => r.wallMs / 1000);
      const typical = runs.find((r) => r.wallMs / 1000 === median(walls)) ?? runs[0]!;
      const run = await openRun(typical.datastoreRoot, "LinearTenFlow", typical.runId!);
      const perStep = (await run.steps()).map((s) => s.name);
      const durations = await Promise.all(perStep.map(async (s) => `${s} ${(await stepTasks(run, s))[0]!.durationMs} ms`));
      // Where the time went, phase by phase, in the median run (`flowrun run --timings`).
      const phases = parseTimings(typical.stderr).map((p): BenchRow => ({
        measurement: `  linear: ${p.label}`,
        value: p.ms,
        unit: "ms",
        notes: p.count ? [`summed over ${p.count}`] : undefined,
      }));
      const metaflow = await measureMetaflow(ctx, "linear10");
      return [{
        measurement: "10-step linear flow: wall",
        value: median(walls),
        unit: "s",
        target: { op: "<=", value: 0.8 },
        metaflow: metaflow?.seconds,
        notes: [
          `median of ${runs.length}${formatSamples(walls, "s")}`,
          await phasesNote(typical, "LinearTenFlow"),
          `task durations (dispatch to commit): ${durations.join(", ")}`,
          cpuNote(runs),
          `peak RSS ${typical.peakRssMb?.toFixed(0)} MB`,
          "the rows under it: the median run's phases (`flowrun run --timings`); a task's phases are summed over tasks and overlap when tasks run in parallel",
          metaflowNote(metaflow),
        ],
      }, ...phases];
    } finally {
      ws.dispose();
    }
  },
};

interface ForeachResult {
  cli: CliRun;
  /** First body dispatch to last body end, over the number of splits. */
  bodySpanPerSplitMs: number;
  notes: string[];
}

async function runForeach(ctx: BenchContext, splits: number, workspace: string): Promise<ForeachResult> {
  ctx.log(`foreach of ${splits.toLocaleString("en-US")} splits`);
  const cli = await runCli({
    flow: "bench/flows/TrivialForeachFlow.ts",
    args: ["--splits", String(splits), "--max-num-splits", "10000", ...ctx.extraArgs],
    workspace,
  });
  assertSucceeded(cli, `foreach of ${splits} splits`);
  const run = await openRun(cli.datastoreRoot, "TrivialForeachFlow", cli.runId!);
  const body = await stepTasks(run, "body");
  const durations = body.map((t) => t.durationMs ?? 0);
  const firstDispatch = Math.min(...body.map((t) => t.startedAt.getTime()));
  const lastEnd = Math.max(...body.map((t) => t.startedAt.getTime() + (t.durationMs ?? 0)));
  const join = (await stepTasks(run, "join"))[0]!;
  return {
    cli,
    bodySpanPerSplitMs: (lastEnd - firstDispatch) / body.length,
    notes: [
      await phasesNote(cli, "TrivialForeachFlow"),
      cpuNote([cli]),
      `body tasks (dispatch to commit): median ${median(durations)} ms, p95 ${percentile(durations, 0.95)} ms, max ${Math.max(...durations)} ms; ` +
        `all ${body.length} bodies span ${lastEnd - firstDispatch} ms (${((lastEnd - firstDispatch) / body.length).toFixed(2)} ms per split)`,
      `join over ${body.length} inputs: ${join.durationMs} ms`,
    ],
  };
}

/** The same flow with one split: everything but the per-split cost. */
function baseline(ctx: BenchContext): Promise<{ wallS: number; cpuS: number | null; notes: string[] }> {
  return ctx.shared("foreach-baseline", async () => {
    const ws = tempWorkspace("foreach-1");
    try {
      const runs = await runCliRepeatedly(
        { flow: "bench/flows/TrivialForeachFlow.ts", args: ["--splits", "1", ...ctx.extraArgs], workspace: ws.dir },
        ctx.repeat,
        "foreach baseline (1 split)",
      );
      const walls = runs.map((r) => r.wallMs / 1000);
      const cpu = runs.map((r) => r.cpuS).filter((c): c is number => c !== null);
      return { wallS: median(walls), cpuS: cpu.length ? median(cpu) : null, notes: [`baseline (same flow, 1 split): ${median(walls).toFixed(2)} s, median of ${runs.length}${formatSamples(walls, "s")}`] };
    } finally {
      ws.dispose();
    }
  });
}

function foreachMeasurement(splits: number, slow: boolean): Measurement {
  const label = `foreach ${splits.toLocaleString("en-US")} trivial splits`;
  return {
    id: `foreach-${splits >= 1000 ? `${splits / 1000}k` : splits}`,
    description: `${label}: wall, tasks/s, per-task overhead over a 1-split baseline, peak RSS`,
    slow,
    async run(ctx): Promise<BenchRow[]> {
      const base = await baseline(ctx);
      const ws = tempWorkspace(`foreach-${splits}`);
      try {
        const { cli, bodySpanPerSplitMs, notes } = await runForeach(ctx, splits, ws.dir);
        // Metaflow's 1,000 splits would take ~6 minutes: its cost per task is compared instead of the wall.
        const metaflow = await measureMetaflow(ctx, "foreachPerTask");
        const wallS = cli.wallMs / 1000;
        const tasks = splits + 3;
        const cores = availableParallelism();
        return [
          {
            measurement: `${label}: wall`,
            value: wallS,
            unit: "s",
            target: splits === 1000 ? { op: "<=", value: 1.5 } : { op: "<=", value: 6 },
            notes: [`this machine: ${cores} cores; ${ctx.extraArgs.length ? ctx.extraArgs.join(" ") : "default --max-workers (16)"}`, ...notes, ...base.notes],
          },
          { measurement: `${label}: throughput`, value: tasks / wallS, unit: "tasks/s", notes: [`${tasks} tasks (start, ${splits} bodies, join, end) / wall`] },
          {
            measurement: `${label}: per-task overhead`,
            value: ((wallS - base.wallS) * 1000) / splits,
            unit: "ms",
            target: { op: "<", value: 2 },
            metaflow: metaflow && metaflow.seconds * 1000,
            notes: [
              "(wall - wall of the 1-split baseline) / splits",
              cli.cpuS !== null && base.cpuS !== null
                ? `CPU per split (CLI process, all threads; robust to other load): ${(((cli.cpuS - base.cpuS) * 1000) / splits).toFixed(2)} ms`
                : "CPU per split not measured",
              metaflowNote(metaflow),
            ],
          },
          {
            measurement: `${label}: body-step span per split`,
            value: bodySpanPerSplitMs,
            unit: "ms",
            target: { op: "<", value: 2 },
            notes: [
              "first body dispatch to last body end, / splits: the same overhead without the start-up noise a two-run difference carries",
              "(on a busy machine the difference of two whole-run walls can even come out negative)",
            ],
          },
          {
            measurement: `${label}: peak RSS`,
            value: cli.peakRssMb,
            unit: "MB",
            target: splits === 10_000 ? { op: "<=", value: 400 } : undefined,
          },
        ];
      } finally {
        ws.dispose();
      }
    },
  };
}

export const flowMeasurements: Measurement[] = [hello, linear10, foreachMeasurement(1000, false), foreachMeasurement(10_000, true)];
