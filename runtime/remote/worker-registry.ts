/**
 * Live workers, as `flowrun workers` lists them: each worker rewrites its own Redis key
 * every few seconds, and the key expires when it stops beating, so a killed worker drops
 * out of the list on its own.
 */
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { REDIS_PREFIX } from "./remote-job.js";

const BEAT_MS = 5000;
const EXPIRE_SECONDS = 15;
const KEY_PREFIX = `${REDIS_PREFIX}:worker:`;

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  queue: string;
  concurrency: number;
  /** The flowrun version it runs: it takes only jobs of runs started by the same version. */
  version: string;
  datastore: string;
  startedAt: string;
  heartbeatAt: string;
  /** Pathspecs of the tasks it runs now. */
  tasks: string[];
}

export class WorkerRegistry {
  private readonly tasks = new Set<string>();
  private info?: Omit<WorkerInfo, "host" | "pid" | "heartbeatAt" | "tasks">;
  private timer?: NodeJS.Timeout;

  constructor(private readonly redis: Redis) {}

  start(info: Omit<WorkerInfo, "host" | "pid" | "heartbeatAt" | "tasks">): void {
    this.info = info;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), BEAT_MS);
    this.timer.unref();
  }

  taskStarted(pathspec: string): void {
    this.tasks.add(pathspec);
  }

  taskFinished(pathspec: string): void {
    this.tasks.delete(pathspec);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.info) await this.redis.del(KEY_PREFIX + this.info.id).catch(() => {});
  }

  private async beat(): Promise<void> {
    if (!this.info) return;
    const info: WorkerInfo = { ...this.info, host: hostname(), pid: process.pid, heartbeatAt: new Date().toISOString(), tasks: [...this.tasks] };
    // A beat missed while Redis is away is made up by the next one.
    await this.redis.set(KEY_PREFIX + info.id, JSON.stringify(info), "EX", EXPIRE_SECONDS).catch(() => {});
  }
}

/** Every worker that beat in the last few seconds, by queue then host. */
export async function listWorkers(redis: Redis, queue?: string): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${KEY_PREFIX}*`, "COUNT", 500);
    cursor = next;
    keys.push(...found);
  } while (cursor !== "0");
  const values = keys.length > 0 ? await redis.mget(keys) : [];
  return values
    .flatMap((value) => (value ? [JSON.parse(value) as WorkerInfo] : []))
    .filter((worker) => !queue || worker.queue === queue)
    .sort((a, b) => a.queue.localeCompare(b.queue) || a.id.localeCompare(b.id));
}
