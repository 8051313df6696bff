/**
 * Remote rows: steps on the task queue (BullMQ on a local redis-server) run by `flowrun
 * worker` processes of the built CLI, against a local s3rver, next to the same flow run by
 * the CLI alone on the same s3rver in the same invocation. Every process shares this
 * machine's 2 cores, so these say what the queue costs per task, not what more machines add.
 *
 * - remote-1k: 1,000 trivial splits through 2 workers: tasks/s and the overhead per task
 *   against the local run; Redis commands and S3 requests per task (docs/scaling.md).
 * - remote-sleep: 100 splits that each wait 1 s, on 4 workers x concurrency 25: the time
 *   from the first split's start to the last one's end (perfect scaling: 1 s).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Run } from "../src/index.js";
import { startRedisServer, type RedisTestServer } from "../test/support/redis-server.js";
import { startS3Server, type S3TestServer } from "../test/support/s3-server.js";
import { assertSucceeded, getWorkspaceBase, REPO_ROOT, runCli, tempWorkspace, type CliRun } from "./cli-process.js";
import type { BenchContext, Measurement } from "./context.js";
import type { BenchRow } from "./table.js";
import { stepTasks } from "./task-timing.js";

interface Rig {
  s3: S3TestServer;
  redis: RedisTestServer;
  base: string;
  root(label: string): string;
}

let prefixes = 0;

async function withRig<T>(fn: (rig: Rig) => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  const s3 = await startS3Server({ bucket: "flowrun-bench" });
  const redis = await startRedisServer();
  const base = mkdtempSync(join(getWorkspaceBase(), "flowrun-bench-remote-"));
  Object.assign(process.env, s3.env, { FLOWRUN_CACHE_DIR: join(base, "client-cache") });
  try {
    return await fn({ s3, redis, base, root: (label) => `s3://${s3.bucket}/${label}-${++prefixes}` });
  } finally {
    await redis.stop();
    await s3.stop();
    rmSync(base, { recursive: true, force: true });
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** `count` workers of the built CLI, each with caches of its own; stopped (SIGTERM) by the returned function. */
async function startWorkers(rig: Rig, root: string, count: number, concurrency: number): Promise<() => Promise<void>> {
  const children: ChildProcess[] = [];
  await Promise.all(Array.from({ length: count }, (_, i) => {
    const cache = join(rig.base, `worker-${++prefixes}-${i}`);
    const child = spawn(process.execPath, ["dist/src/cli/main.js", "worker", "--redis", rig.redis.url, "--datastore", "s3", "--datastore-root", root, "--concurrency", String(concurrency)], {
      cwd: REPO_ROOT,
      env: { ...process.env, XDG_CACHE_HOME: cache, FLOWRUN_CACHE_DIR: join(cache, "blobs") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    return new Promise<void>((resolve, reject) => {
      let output = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        if (output.includes("serves queue")) resolve();
      });
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
      child.once("exit", () => reject(new Error(`a worker exited before it started:\n${output}`)));
    });
  }));
  return async () => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    })));
  };
}

async function runOn(ctx: BenchContext, rig: Rig, root: string, flow: string, args: string[], what: string): Promise<CliRun> {
  const ws = tempWorkspace("remote");
  try {
    const cli = await runCli({
      flow,
      args: [...args, "--datastore", "s3", "--datastore-root", root, "--redis", rig.redis.url, ...ctx.extraArgs],
      workspace: ws.dir,
      env: { FLOWRUN_CACHE_DIR: join(rig.base, `cli-${++prefixes}`) },
    });
    assertSucceeded(cli, what);
    return cli;
  } finally {
    ws.dispose();
  }
}

/** Redis commands processed so far (every client): INFO's total_commands_processed. */
async function redisCommands(url: string): Promise<number> {
  const client = new Redis(url);
  try {
    return Number(/total_commands_processed:(\d+)/.exec(await client.info("stats"))![1]);
  } finally {
    client.disconnect();
  }
}

const remoteThousand: Measurement = {
  id: "remote-1k",
  description: "1,000 trivial splits on the task queue through 2 workers vs the CLI alone (both on s3rver): tasks/s, overhead per task, Redis and S3 requests per task",
  async run(ctx): Promise<BenchRow[]> {
    const splits = 1000;
    return withRig(async (rig) => {
      ctx.log(`local: TrivialForeachFlow --splits ${splits} on s3rver`);
      const localRoot = rig.root("local");
      const s3Before = (await rig.s3.requests()).length;
      const local = await runOn(ctx, rig, localRoot, "bench/flows/TrivialForeachFlow.ts", ["--splits", String(splits)], "local 1,000 splits");
      const localRequests = (await rig.s3.requests()).length - s3Before;
      const root = rig.root("remote");
      const stop = await startWorkers(rig, root, 2, 8);
      try {
        ctx.log(`remote: the same through 2 workers x concurrency 8`);
        const redisBefore = await redisCommands(rig.redis.url);
        const s3Start = (await rig.s3.requests()).length;
        const remote = await runOn(ctx, rig, root, "bench/flows/TrivialForeachFlow.ts", ["--splits", String(splits), "--with", "remote", "--max-workers", "32"], "remote 1,000 splits");
        const redisPerTask = (await redisCommands(rig.redis.url) - redisBefore) / (splits + 3);
        const s3PerTask = ((await rig.s3.requests()).length - s3Start) / (splits + 3);
        const tasksPerSecond = splits / (remote.wallMs / 1000);
        const overheadMs = (remote.wallMs - local.wallMs) / splits;
        return [
          {
            measurement: "remote: 1,000 trivial tasks through 2 workers",
            value: tasksPerSecond,
            unit: "tasks/s",
            target: { op: ">=", value: 200 },
            notes: [
              `remote run ${(remote.wallMs / 1000).toFixed(1)} s, the CLI alone on the same s3rver ${(local.wallMs / 1000).toFixed(1)} s (${(splits / (local.wallMs / 1000)).toFixed(0)} tasks/s)`,
              `overhead per task on the queue: ${overheadMs.toFixed(1)} ms of wall time over the local run`,
              `per task: ${redisPerTask.toFixed(1)} Redis commands, ${s3PerTask.toFixed(1)} S3 requests (local run: ${(localRequests / (splits + 3)).toFixed(1)} S3 requests)`,
            ],
          },
          { measurement: "remote: Redis commands per task", value: redisPerTask, unit: "commands" },
          { measurement: "remote: S3 requests per task", value: s3PerTask, unit: "requests", notes: [`the CLI alone: ${(localRequests / (splits + 3)).toFixed(1)} per task`] },
        ];
      } finally {
        await stop();
      }
    });
  },
};

/** 100 splits of 1 s on `workers` x `concurrency`: first split start to last split end, in s. */
async function sleepySpan(ctx: BenchContext, rig: Rig, workers: number, concurrency: number): Promise<{ spanS: number; wallS: number; ranOn: number }> {
  const root = rig.root("sleep");
  const stop = await startWorkers(rig, root, workers, concurrency);
  try {
    ctx.log(`remote: SleepyForeachFlow, 100 x 1 s on ${workers} workers x ${concurrency}`);
    const cli = await runOn(ctx, rig, root, "bench/flows/SleepyForeachFlow.ts", ["--splits", "100", "--sleep-ms", "1000", "--with", "remote", "--max-workers", "100"], "remote sleepy splits");
    const run = await Run.get(`SleepyForeachFlow/${cli.runId}`, { datastore: { kind: "s3", root } });
    const tasks = await stepTasks(run, "body");
    const starts = tasks.map((t) => Date.parse(t.metadata.startedAt));
    const ends = tasks.map((t) => Date.parse(t.metadata.finishedAt!));
    return { spanS: (Math.max(...ends) - Math.min(...starts)) / 1000, wallS: cli.wallMs / 1000, ranOn: new Set(tasks.map((t) => t.metadata.worker)).size };
  } finally {
    await stop();
  }
}

const remoteSleep: Measurement = {
  id: "remote-sleep",
  description: "100 splits that each wait 1 s on 4 workers (x concurrency 25, and x 5 for scale): from the first split's start to the last one's end",
  async run(ctx): Promise<BenchRow[]> {
    return withRig(async (rig) => {
      const rows: BenchRow[] = [];
      for (const [concurrency, target] of [[25, 3], [5, 5]] as const) {
        const measurement = `remote: 100 x 1 s tasks on 4 workers x ${concurrency}`;
        try {
          const { spanS, wallS, ranOn } = await sleepySpan(ctx, rig, 4, concurrency);
          rows.push({
            measurement,
            value: spanS,
            unit: "s",
            target: concurrency === 25 ? { op: "<=", value: target } : undefined,
            notes: [`first split start to last split end (perfect scaling: ${Math.ceil(100 / (4 * concurrency))} s); ${ranOn} workers ran splits; whole run ${wallS.toFixed(1)} s from the CLI's start`],
          });
        } catch (error) {
          rows.push({ measurement, value: null, unit: "s", notes: [`failed: ${(error as Error).message.slice(0, 300)}`] });
        }
      }
      return rows;
    });
  },
};

export const remoteMeasurements: Measurement[] = [remoteThousand, remoteSleep];
