/**
 * Large-artifact measurements. Each runs one flow with the real size and with a 1 KB
 * artifact of the same shape, and compares the same task in both: what is left is what the
 * size costs. The write is not visible inside a step (artifacts are persisted after the body
 * returns), so it is read from the task's recorded duration, split around the step body
 * (see task-timing.ts). Pairs repeat `ctx.repeat` times; medians are reported.
 */
import { assertSucceeded, median, runCli, tempWorkspace, type CliRun } from "./cli-process.js";
import type { BenchContext, Measurement } from "./context.js";
import type { BenchRow } from "./table.js";
import { describeTiming, openRun, timeTask } from "./task-timing.js";

const TINY_MB = 1 / 1024;

async function runSized(ctx: BenchContext, flow: string, mb: number, workspace: string, withoutLauncher: boolean): Promise<CliRun> {
  ctx.log(`${flow} --mb ${mb < 1 ? mb.toFixed(4) : mb}${withoutLauncher ? " (node dist/src/cli/main.js)" : ""}`);
  const cli = await runCli({ flow, args: ["--mb", String(mb), ...ctx.extraArgs], workspace, withoutLauncher });
  assertSucceeded(cli, `${flow} --mb ${mb}`);
  return cli;
}

/** `ctx.repeat` (big, tiny) pairs, each in its own datastore, removed once `compare` has read it. */
async function pairs<T>(ctx: BenchContext, flow: string, mb: number, compare: (big: CliRun, tiny: CliRun) => Promise<T>, withoutLauncher = false): Promise<T[]> {
  const samples: T[] = [];
  for (let i = 0; i < ctx.repeat; i++) {
    const ws = tempWorkspace(`mb${mb}`);
    try {
      const big = await runSized(ctx, flow, mb, ws.dir, withoutLauncher);
      const tiny = await runSized(ctx, flow, TINY_MB, ws.dir, withoutLauncher);
      samples.push(await compare(big, tiny));
    } finally {
      ws.dispose();
    }
  }
  return samples;
}

function mbPerS(mb: number, ms: number): number | null {
  return ms > 0 ? mb / (ms / 1000) : null;
}

function samplesNote(values: number[], unit: string): string {
  return values.length > 1 ? `median of ${values.length} pairs (samples: ${values.map((v) => v.toFixed(0)).join(", ")} ${unit})` : "one pair";
}

/**
 * What this machine charges for memory no one has touched yet: `mb` MB allocated and filled
 * in this process, ms (median of 3). Any read of an artifact into a buffer of its own pays
 * this once, whatever the datastore; on a VM that maps memory lazily it can be most of a
 * read.
 */
function freshMemoryMs(mb: number): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    new Uint8Array(mb * 2 ** 20).fill(1);
    times.push(performance.now() - started);
  }
  return median(times);
}

const artifact100: Measurement = {
  id: "artifact-100mb",
  description: "a 100 MB Float64Array written in one step and summed in the next: MB/s, peak RSS growth",
  async run(ctx): Promise<BenchRow[]> {
    const mb = 100;
    const n = Math.round((mb * 2 ** 20) / 8);
    const freshMs = freshMemoryMs(mb);
    const measure = async (big: CliRun, tiny: CliRun) => {
      const bigRun = await openRun(big.datastoreRoot, "BigArtifactFlow", big.runId!);
      const tinyRun = await openRun(tiny.datastoreRoot, "BigArtifactFlow", tiny.runId!);
      const [bw, tw, br, tr] = await Promise.all([
        timeTask(bigRun, "write", "write"), timeTask(tinyRun, "write", "write"),
        timeTask(bigRun, "read", "read"), timeTask(tinyRun, "read", "read"),
      ]);
      const sum = await br.task.artifact<number>("sum");
      return {
        writeMs: bw.afterMs - tw.afterMs,
        readMs: await br.task.artifact<number>("readMs"),
        readLoadMs: await br.task.artifact<number>("readLoadMs"),
        readTaskMs: br.durationMs - tr.durationMs,
        sumOk: sum === (0.5 * n * (n - 1)) / 2,
        rssMb: big.peakRssMb,
        tinyRssMb: tiny.peakRssMb,
        timings: [describeTiming("write 100 MB", bw), describeTiming("write 1 KB", tw), describeTiming("read 100 MB", br), describeTiming("read 1 KB", tr)],
      };
    };
    const samples = await pairs(ctx, "bench/flows/BigArtifactFlow.ts", mb, measure);
    // The baseline: the same pairs without bin/flowrun's huge pages.
    const plainReadMs = median((await pairs(ctx, "bench/flows/BigArtifactFlow.ts", mb, measure, true)).map((s) => s.readMs));
    const pick = (f: (s: (typeof samples)[number]) => number) => samples.map(f);
    const writeMs = median(pick((s) => s.writeMs));
    const readMs = median(pick((s) => s.readMs));
    const readTaskMs = median(pick((s) => s.readTaskMs));
    const rssGrowth = pick((s) => (s.rssMb ?? NaN) - (s.tinyRssMb ?? NaN));
    const last = samples.at(-1)!;
    return [
      {
        measurement: "100 MB artifact: write",
        value: mbPerS(mb, writeMs),
        unit: "MB/s",
        target: { op: ">=", value: 500 },
        notes: [
          `100 MB / (time after the write body returns, 100 MB run minus 1 KB run = ${writeMs} ms); the fill loop is excluded`,
          samplesNote(pick((s) => s.writeMs), "ms"),
          ...last.timings.slice(0, 2).map((t) => `last pair: ${t}`),
        ],
      },
      {
        measurement: "100 MB artifact: read (load + sum, in step)",
        value: mbPerS(mb, readMs),
        unit: "MB/s",
        target: { op: ">=", value: 1000 },
        notes: [
          `performance.now() around the first access of this.data and the sum loop: ${readMs.toFixed(0)} ms; ` +
            `of which the first access (load + decode): ${median(pick((s) => s.readLoadMs)).toFixed(0)} ms; sums ${samples.every((s) => s.sumOk) ? "correct" : "WRONG"}`,
          samplesNote(pick((s) => s.readMs), "ms"),
          `${(plainReadMs / readMs).toFixed(1)}x the baseline below, in the same invocation`,
        ],
      },
      {
        measurement: "  ... the same read, plain `node dist/src/cli/main.js`",
        value: mbPerS(mb, plainReadMs),
        unit: "MB/s",
        notes: [
          `the same pairs run without bin/flowrun, so large buffers get 4 KB pages: ${plainReadMs.toFixed(0)} ms`,
          `this machine's floor for that: allocating and filling ${mb} MB of fresh memory in the bench process (4 KB pages) ` +
            `takes ${freshMs.toFixed(0)} ms (${mbPerS(mb, freshMs)?.toFixed(0)} MB/s), median of 3`,
        ],
      },
      {
        measurement: "100 MB artifact: read step, whole task",
        value: mbPerS(mb, readTaskMs),
        unit: "MB/s",
        target: { op: ">=", value: 500 },
        notes: [
          `100 MB / (read task duration, 100 MB run minus 1 KB run = ${readTaskMs} ms): adds what the runtime does after the body with an artifact the step read`,
          samplesNote(pick((s) => s.readTaskMs), "ms"),
          ...last.timings.slice(2).map((t) => `last pair: ${t}`),
        ],
      },
      {
        measurement: "100 MB artifact run: peak RSS growth",
        value: median(rssGrowth),
        unit: "MB",
        target: { op: "<=", value: 2.5 * mb },
        notes: [
          `peak RSS of the CLI process (its worker threads included) in the 100 MB run minus the same in the 1 KB run: ` +
            `what writing the artifact in one step and reading it in the next adds; ${(median(rssGrowth) / mb).toFixed(2)} times the artifact`,
          samplesNote(rssGrowth, "MB"),
          `peak RSS of the CLI in the 100 MB runs: ${pick((s) => s.rssMb ?? NaN).map((v) => v.toFixed(0)).join(", ")} MB; ` +
            `in the 1 KB runs: ${pick((s) => s.tinyRssMb ?? NaN).map((v) => v.toFixed(0)).join(", ")} MB`,
        ],
      },
    ];
  },
};

const passThrough500: Measurement = {
  id: "passthrough-500mb",
  description: "a step that leaves a 500 MB artifact untouched: time it adds to the task",
  slow: true,
  async run(ctx): Promise<BenchRow[]> {
    const mb = 500;
    const samples = await pairs(ctx, "bench/flows/PassThroughFlow.ts", mb, async (big, tiny) => {
      const bigRun = await openRun(big.datastoreRoot, "PassThroughFlow", big.runId!);
      const tinyRun = await openRun(tiny.datastoreRoot, "PassThroughFlow", tiny.runId!);
      const [bp, tp, bs, ts] = await Promise.all([
        timeTask(bigRun, "pass", "pass"), timeTask(tinyRun, "pass", "pass"),
        timeTask(bigRun, "start", "start"), timeTask(tinyRun, "start", "start"),
      ]);
      return {
        addedMs: bp.durationMs - tp.durationMs,
        passMs: bp.durationMs,
        writeMs: bs.afterMs - ts.afterMs,
        rssMb: big.peakRssMb,
        timings: [describeTiming("pass 500 MB", bp), describeTiming("pass 1 KB", tp), describeTiming("start 500 MB", bs)],
      };
    });
    const pick = (f: (s: (typeof samples)[number]) => number) => samples.map(f);
    const last = samples.at(-1)!;
    const writeMs = median(pick((s) => s.writeMs));
    return [
      {
        measurement: "500 MB artifact: pass-through step adds",
        value: median(pick((s) => s.addedMs)),
        unit: "ms",
        target: { op: "<", value: 50 },
        notes: [
          "pass task duration (dispatch to commit), 500 MB run minus 1 KB run; near zero, so the noise of two runs shows (it can be negative)",
          samplesNote(pick((s) => s.addedMs), "ms"),
          `the pass task itself with 500 MB: ${pick((s) => s.passMs).join(", ")} ms`,
          ...last.timings.slice(0, 2).map((t) => `last pair: ${t}`),
        ],
      },
      {
        measurement: "500 MB artifact: write (start step)",
        value: mbPerS(mb, writeMs),
        unit: "MB/s",
        notes: [`after-body time of start, 500 MB run minus 1 KB run = ${writeMs} ms`, samplesNote(pick((s) => s.writeMs), "ms"), `last pair: ${last.timings[2]}`],
      },
      {
        measurement: "500 MB artifact run: peak RSS",
        value: Math.max(...pick((s) => s.rssMb ?? NaN)),
        unit: "MB",
        notes: [`the whole CLI process, workers included; max over runs (${pick((s) => s.rssMb ?? NaN).map((v) => v.toFixed(0)).join(", ")} MB)`],
      },
    ];
  },
};

export const artifactMeasurements: Measurement[] = [artifact100, passThrough500];
