/**
 * S3 rows: the same CLI and flows as the local rows, with `--datastore s3` against an
 * s3rver started on 127.0.0.1 for the measurement (test/support/s3-server.ts, the server
 * the tests use). s3rver is a single Node process writing files, so these numbers say what
 * flowrun costs over S3's request protocol on this machine, not what AWS would deliver:
 * real S3 adds network latency per request and is far faster per byte.
 *
 * - 100 MB artifact: write = time after the write step's body (100 MB run minus a 1 KB run:
 *   hash, multipart upload, and the write-through copy into the local blob cache); read =
 *   the client reading the artifact with an empty blob cache (ranged GETs + decode), since
 *   inside the run the next step reads the copy the write left in the local cache.
 * - 1,000-split trivial foreach: wall clock of `flowrun run`, and tasks/s.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Run } from "../src/index.js";
import { startS3Server, type S3TestServer } from "../test/support/s3-server.js";
import { assertSucceeded, getWorkspaceBase, median, runCli, tempWorkspace, type CliRun } from "./cli-process.js";
import type { BenchContext, Measurement } from "./context.js";
import type { BenchRow } from "./table.js";
import { describePhases, describeTiming, percentile, stepTasks, timeTask } from "./task-timing.js";

const TINY_MB = 1 / 1024;
let prefixCount = 0;

/** An s3rver for one measurement; the bench process's client reaches it too (AWS_* set here). */
async function withServer<T>(fn: (server: S3TestServer, cacheBase: string) => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  const server = await startS3Server({ bucket: "flowrun-bench" });
  const cacheBase = mkdtempSync(join(getWorkspaceBase(), "flowrun-bench-s3-cache-"));
  Object.assign(process.env, server.env);
  try {
    return await fn(server, cacheBase);
  } finally {
    await server.stop();
    rmSync(cacheBase, { recursive: true, force: true });
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

interface S3Run {
  cli: CliRun;
  run: Run;
}

/** `flowrun run` on a fresh prefix of the bucket, with its own empty blob cache. */
async function runOnS3(ctx: BenchContext, server: S3TestServer, cacheBase: string, flow: string, args: string[], what: string): Promise<S3Run> {
  const root = `s3://${server.bucket}/run-${++prefixCount}`;
  const ws = tempWorkspace("s3");
  try {
    const cli = await runCli({
      flow,
      // Later options win: these replace the local --datastore-root runCli puts first.
      args: [...args, "--datastore", "s3", "--datastore-root", root, ...ctx.extraArgs],
      workspace: ws.dir,
      env: { FLOWRUN_CACHE_DIR: join(cacheBase, `cli-${prefixCount}`) },
    });
    assertSucceeded(cli, what);
    const flowName = flow.split("/").pop()!.replace(/\.ts$/, "");
    // The client opens this prefix now, with a blob cache of its own: empty until it reads.
    process.env.FLOWRUN_CACHE_DIR = join(cacheBase, `client-${prefixCount}`);
    return { cli, run: await Run.get(`${flowName}/${cli.runId}`, { datastore: { kind: "s3", root } }) };
  } finally {
    ws.dispose();
  }
}

const s3Artifact100: Measurement = {
  id: "s3-artifact-100mb",
  description: "S3 (local s3rver): a 100 MB Float64Array written by a step, then read by the client with an empty cache: MB/s",
  async run(ctx): Promise<BenchRow[]> {
    const mb = 100;
    return withServer(async (server, cacheBase) => {
      const samples: Array<{ writeMs: number; readMs: number; readTaskMs: number; rssMb: number | null; timings: string[] }> = [];
      for (let i = 0; i < ctx.repeat; i++) {
        ctx.log(`S3: BigArtifactFlow --mb ${mb} and --mb ${TINY_MB.toFixed(4)} (pair ${i + 1}/${ctx.repeat})`);
        const big = await runOnS3(ctx, server, cacheBase, "bench/flows/BigArtifactFlow.ts", ["--mb", String(mb)], `S3 --mb ${mb}`);
        const tiny = await runOnS3(ctx, server, cacheBase, "bench/flows/BigArtifactFlow.ts", ["--mb", String(TINY_MB)], `S3 --mb ${TINY_MB}`);
        const [bw, tw, br, tr] = await Promise.all([
          timeTask(big.run, "write", "write"), timeTask(tiny.run, "write", "write"),
          timeTask(big.run, "read", "read"), timeTask(tiny.run, "read", "read"),
        ]);
        // The client's cache for this run holds only the small timing artifacts: this downloads.
        const writeTask = (await stepTasks(big.run, "write"))[0]!;
        const gets = await server.objectReads("/blobs/");
        const started = performance.now();
        const data = await writeTask.artifact<Float64Array>("data");
        const readMs = performance.now() - started;
        if (data.length !== (mb * 2 ** 20) / 8 || data[12345] !== 12345 * 0.5) throw new Error("S3 read returned wrong data");
        if ((await server.objectReads("/blobs/")) === gets) throw new Error("the client read did not download (cache not empty?)");
        samples.push({
          writeMs: bw.afterMs - tw.afterMs,
          readMs,
          readTaskMs: br.durationMs - tr.durationMs,
          rssMb: big.cli.peakRssMb,
          timings: [describeTiming("write 100 MB", bw), describeTiming("write 1 KB", tw), describeTiming("read step 100 MB", br)],
        });
      }
      const pick = (f: (s: (typeof samples)[number]) => number) => samples.map(f);
      const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(", ");
      const writeMs = median(pick((s) => s.writeMs));
      const readMs = median(pick((s) => s.readMs));
      const last = samples.at(-1)!;
      return [
        {
          measurement: "S3 100 MB artifact: write",
          value: writeMs > 0 ? mb / (writeMs / 1000) : null,
          unit: "MB/s",
          notes: [
            `100 MB / (after-body time of the write step, 100 MB run minus 1 KB run = ${writeMs.toFixed(0)} ms): SHA-256, HEAD, 16 MiB multipart parts 4 at a time, write-through into the local blob cache`,
            `median of ${samples.length} pairs (samples: ${list(pick((s) => s.writeMs))} ms); s3rver on 127.0.0.1, one fresh prefix per run`,
            ...last.timings.slice(0, 2).map((t) => `last pair: ${t}`),
            `peak RSS of the CLI in the 100 MB runs: ${list(pick((s) => s.rssMb ?? NaN))} MB`,
          ],
        },
        {
          measurement: "S3 100 MB artifact: read (client, empty cache)",
          value: readMs > 0 ? mb / (readMs / 1000) : null,
          unit: "MB/s",
          notes: [
            `Task.artifact("data") in the bench process with an empty blob cache: 16 MiB ranged GETs 4 at a time + decode = ${readMs.toFixed(0)} ms`,
            `median of ${samples.length} (samples: ${list(pick((s) => s.readMs))} ms)`,
            `inside the run the read step finds the bytes in the local cache the write filled: read task 100 MB minus 1 KB = ${median(pick((s) => s.readTaskMs)).toFixed(0)} ms; last pair: ${last.timings[2]}`,
          ],
        },
      ];
    });
  },
};

const s3Foreach1k: Measurement = {
  id: "s3-foreach-1k",
  description: "S3 (local s3rver): a foreach of 1,000 trivial splits: wall, tasks/s",
  async run(ctx): Promise<BenchRow[]> {
    const splits = 1000;
    return withServer(async (server, cacheBase) => {
      ctx.log(`S3: foreach of ${splits.toLocaleString("en-US")} splits`);
      const requestsBefore = (await server.requests()).length;
      const { cli, run } = await runOnS3(ctx, server, cacheBase, "bench/flows/TrivialForeachFlow.ts", ["--splits", String(splits)], `S3 foreach of ${splits}`);
      const requests = (await server.requests()).length - requestsBefore;
      // Reading a step back costs two requests per task on S3: read only what the notes use.
      const body = await stepTasks(run, "body");
      const durations = body.map((t) => t.durationMs ?? 0);
      const firstDispatch = Math.min(...body.map((t) => t.startedAt.getTime()));
      const lastEnd = Math.max(...body.map((t) => t.startedAt.getTime() + (t.durationMs ?? 0)));
      const wallS = cli.wallMs / 1000;
      const tasks = splits + 3;
      const start = (await stepTasks(run, "start"))[0]!;
      const join = (await stepTasks(run, "join"))[0]!;
      const end = (await stepTasks(run, "end"))[0]!;
      const endMs = end.startedAt.getTime() + (end.durationMs ?? 0);
      const phases = describePhases({
        startupMs: start.startedAt.getTime() - cli.spawnedAt,
        tasksMs: endMs - start.startedAt.getTime(),
        shutdownMs: cli.spawnedAt + cli.wallMs - endMs,
        taskCount: tasks,
      });
      return [
        {
          measurement: "S3 foreach 1,000 trivial splits: wall",
          value: wallS,
          unit: "s",
          notes: [
            phases,
            `${ctx.extraArgs.length ? ctx.extraArgs.join(" ") : "default --max-workers (16)"}; ${requests.toLocaleString("en-US")} S3 requests (${(requests / tasks).toFixed(1)} per task)`,
            `start (stores ${splits} foreach elements: a HEAD and a PUT each): ${start.durationMs} ms; join (reads ${splits} parent records): ${join.durationMs} ms`,
            `body tasks (dispatch to commit): median ${median(durations)} ms, p95 ${percentile(durations, 0.95)} ms, max ${Math.max(...durations)} ms`,
            `peak RSS of the CLI: ${cli.peakRssMb?.toFixed(0) ?? "n/a"} MB`,
          ],
        },
        {
          measurement: "S3 foreach 1,000 trivial splits: throughput",
          value: tasks / wallS,
          unit: "tasks/s",
          notes: [
            `${tasks} tasks (start, ${splits} bodies, join, end) / wall`,
            `body step alone: ${splits} splits in ${lastEnd - firstDispatch} ms = ${((splits * 1000) / (lastEnd - firstDispatch)).toFixed(0)} tasks/s`,
          ],
        },
      ];
    });
  },
};

export const s3Measurements: Measurement[] = [s3Artifact100, s3Foreach1k];
