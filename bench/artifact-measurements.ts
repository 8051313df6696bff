/**
 * Large-artifact measurements. Each runs one flow twice, with the real size and with a
 * 1 KB artifact of the same shape, and compares the same task in both: what is left is
 * what the size costs. The write is not visible inside a step (artifacts are persisted
 * after the body returns), so it is read from the task's recorded duration, split around
 * the step body (see task-timing.ts).
 */
import { assertSucceeded, runCli, tempWorkspace, type CliRun } from "./cli-process.js";
import type { BenchContext, Measurement } from "./context.js";
import type { BenchRow } from "./table.js";
import { describeTiming, openRun, timeTask } from "./task-timing.js";

const TINY_MB = 1 / 1024;

async function runSized(ctx: BenchContext, flow: string, mb: number, workspace: string): Promise<CliRun> {
  ctx.log(`${flow} --mb ${mb < 1 ? mb.toFixed(4) : mb}`);
  const cli = await runCli({ flow, args: ["--mb", String(mb), ...ctx.extraArgs], workspace });
  assertSucceeded(cli, `${flow} --mb ${mb}`);
  return cli;
}

function mbPerS(mb: number, ms: number): number | null {
  return ms > 0 ? mb / (ms / 1000) : null;
}

const artifact100: Measurement = {
  id: "artifact-100mb",
  description: "a 100 MB Float64Array written in one step and summed in the next: MB/s",
  async run(ctx): Promise<BenchRow[]> {
    const mb = 100;
    const ws = tempWorkspace("artifact");
    try {
      const flow = "bench/flows/BigArtifactFlow.ts";
      const big = await runSized(ctx, flow, mb, ws.dir);
      const tiny = await runSized(ctx, flow, TINY_MB, ws.dir);
      const bigRun = await openRun(big.datastoreRoot, "BigArtifactFlow", big.runId!);
      const tinyRun = await openRun(tiny.datastoreRoot, "BigArtifactFlow", tiny.runId!);
      const [bw, tw, br, tr] = await Promise.all([
        timeTask(bigRun, "write", "write"), timeTask(tinyRun, "write", "write"),
        timeTask(bigRun, "read", "read"), timeTask(tinyRun, "read", "read"),
      ]);
      const readMs = await br.task.artifact<number>("readMs");
      const readLoadMs = await br.task.artifact<number>("readLoadMs");
      const sum = await br.task.artifact<number>("sum");
      const n = Math.round((mb * 2 ** 20) / 8);
      const sumOk = sum === (0.5 * n * (n - 1)) / 2;
      const writeMs = bw.afterMs - tw.afterMs;
      const readTaskMs = br.durationMs - tr.durationMs;
      const timings = [describeTiming("write 100 MB", bw), describeTiming("write 1 KB", tw), describeTiming("read 100 MB", br), describeTiming("read 1 KB", tr)];
      return [
        {
          measurement: "100 MB artifact: write",
          value: mbPerS(mb, writeMs),
          unit: "MB/s",
          target: { op: ">=", value: 500 },
          notes: [`100 MB / (time after the write body returns, 100 MB run minus 1 KB run = ${writeMs} ms); the fill loop is excluded`, ...timings.slice(0, 2)],
        },
        {
          measurement: "100 MB artifact: read (load + sum, in step)",
          value: mbPerS(mb, readMs),
          unit: "MB/s",
          target: { op: ">=", value: 500 },
          notes: [`performance.now() around the first access of this.data and the sum loop: ${readMs.toFixed(1)} ms ` +
            `(first access, i.e. load + decode: ${readLoadMs.toFixed(1)} ms; sum loop: ${(readMs - readLoadMs).toFixed(1)} ms); sum ${sumOk ? "correct" : `WRONG (${sum})`}`],
        },
        {
          measurement: "100 MB artifact: read step, whole task",
          value: mbPerS(mb, readTaskMs),
          unit: "MB/s",
          target: { op: ">=", value: 500 },
          notes: [`100 MB / (read task duration, 100 MB run minus 1 KB run = ${readTaskMs} ms): includes what the runtime does after the body with an artifact the step read`, ...timings.slice(2), `peak RSS of the CLI (100 MB run): ${big.peakRssMb?.toFixed(0)} MB`],
        },
      ];
    } finally {
      ws.dispose();
    }
  },
};

const passThrough500: Measurement = {
  id: "passthrough-500mb",
  description: "a step that leaves a 500 MB artifact untouched: time it adds to the task",
  slow: true,
  async run(ctx): Promise<BenchRow[]> {
    const mb = 500;
    const ws = tempWorkspace("passthrough");
    try {
      const flow = "bench/flows/PassThroughFlow.ts";
      const big = await runSized(ctx, flow, mb, ws.dir);
      const tiny = await runSized(ctx, flow, TINY_MB, ws.dir);
      const bigRun = await openRun(big.datastoreRoot, "PassThroughFlow", big.runId!);
      const tinyRun = await openRun(tiny.datastoreRoot, "PassThroughFlow", tiny.runId!);
      const [bp, tp, bs, ts] = await Promise.all([
        timeTask(bigRun, "pass", "pass"), timeTask(tinyRun, "pass", "pass"),
        timeTask(bigRun, "start", "start"), timeTask(tinyRun, "start", "start"),
      ]);
      const writeMs = bs.afterMs - ts.afterMs;
      return [
        {
          measurement: "500 MB artifact: pass-through step adds",
          value: bp.durationMs - tp.durationMs,
          unit: "ms",
          target: { op: "<", value: 50 },
          notes: ["pass task duration, 500 MB run minus 1 KB run", describeTiming("pass 500 MB", bp), describeTiming("pass 1 KB", tp)],
        },
        {
          measurement: "500 MB artifact: write (start step)",
          value: mbPerS(mb, writeMs),
          unit: "MB/s",
          notes: [`after-body time of start, 500 MB minus 1 KB = ${writeMs} ms`, describeTiming("start 500 MB", bs)],
        },
        { measurement: "500 MB artifact run: peak RSS", value: big.peakRssMb, unit: "MB", notes: ["the whole CLI process, workers included"] },
      ];
    } finally {
      ws.dispose();
    }
  },
};

export const artifactMeasurements: Measurement[] = [artifact100, passThrough500];
