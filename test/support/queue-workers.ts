/**
 * Real `flowrun worker` processes for tests: each with its own cache directory (code
 * packages, environments, compiled flows), so nothing reaches a worker through the
 * filesystem that the CLI used; only Redis and S3 connect them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./flowrun-cli.js";
import { killed } from "./redis-server.js";

const TSX = import.meta.resolve("tsx");

export interface QueueWorkerProcess {
  child: ChildProcess;
  name: string;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves when its output contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface WorkerOptions {
  redisUrl: string;
  datastoreRoot: string;
  concurrency?: number;
  queue?: string;
  /** How soon its tasks run elsewhere once it stops answering (the CLI's default: 10 s). */
  lockSeconds?: number;
  /** Added to the worker's environment (the S3 endpoint, a registry). */
  env?: Record<string, string>;
  name: string;
}

export async function startQueueWorker(options: WorkerOptions): Promise<QueueWorkerProcess> {
  const cache = mkdtempSync(join(tmpdir(), `flowrun-worker-${options.name}-`));
  const args = ["--import", TSX, join(REPO, "src/cli/main.ts"), "worker", "--redis", options.redisUrl, "--datastore", "s3", "--datastore-root", options.datastoreRoot,
    "--concurrency", String(options.concurrency ?? 4), "--lock-seconds", String(options.lockSeconds ?? 10)];
  if (options.queue) args.push("--queue", options.queue);
  const child = spawn(process.execPath, args, {
    cwd: cache,
    env: { ...process.env, NO_COLOR: "1", XDG_CACHE_HOME: cache, FLOWRUN_CACHE_DIR: join(cache, "blobs"), FLOWRUN_ENV_CACHE: join(cache, "envs"), FLOWRUN_TEST_WORKER: options.name, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      for (const listener of listeners) listener();
    });
  }
  const worker: QueueWorkerProcess = {
    child,
    name: options.name,
    output: () => output,
    waitFor: (text, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (typeof text === "string" ? output.includes(text) : text.test(output)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`worker ${options.name} did not print ${text} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        child.once("exit", () => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`worker ${options.name} exited before printing ${text}:\n${output}`));
        });
        check();
      }),
    stop: (signal = "SIGKILL") => killed(child, signal),
  };
  await worker.waitFor("serves queue");
  return worker;
}
