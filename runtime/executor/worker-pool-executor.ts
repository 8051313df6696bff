/**
 * Runs tasks in piscina worker threads, one pool per (step, dependency environment): a
 * step's imports and module-level state never leak into another step, while the splits of
 * a foreach reuse warm workers. `@isolate` gives each task a pool of its own (a fresh
 * worker), paying a worker's cold start on every task.
 *
 * A pool may grow to `maxWorkers` threads whatever the core count (I/O-bound splits must
 * all run at once); its PoolGate decides when growing is worth the cold starts.
 */
import { availableParallelism } from "node:os";
import { getHeapStatistics } from "node:v8";
import { MessageChannel } from "node:worker_threads";
import type { Piscina } from "piscina";
import { TaskFailedError } from "../../src/core/errors.js";
import { userFrames } from "../../src/core/user-frames.js";
import type { ResponseTo, TaskBatch, TaskBatchResponse, WorkerMessage, WorkerRequest, WorkerSetup } from "../protocol.js";
import { TaskProcessTable } from "../task-process-table.js";
import { TaskProgress } from "../task-progress.js";
import { endProcesses } from "./end-processes.js";
import { PoolGate } from "./pool-gate.js";
import { TaskBatcher } from "./task-batcher.js";
import { adoptFirstWorker, destroyWorkerPool, newWorkerPool } from "./worker-threads.js";
import type { StepRuntimeOptions, TaskExecutor } from "./task-executor.js";

export interface WorkerPoolExecutorOptions {
  setup: Omit<WorkerSetup, "flow">;
  maxWorkers: number;
  /**
   * Tasks one thread runs at once (default 1). A queue worker serving more tasks than it has
   * cores sets more, so tasks waiting on I/O do not each cost a thread's cold start. A step
   * with @timeout (which stops its thread), a memory limit (per thread) or @isolate keeps 1.
   */
  tasksPerThread?: number;
}

interface StepPool {
  piscina: Piscina;
  gate: PoolGate;
  /** Sends its tasks several to a message once they wait (one task per thread, no @timeout); made with the first. */
  batcher?: TaskBatcher;
}

export class WorkerPoolExecutor implements TaskExecutor {
  private readonly pools = new Map<string, StepPool>();
  private closed = false;
  private datastoreOpen = false;

  constructor(private readonly options: WorkerPoolExecutorOptions) {}

  /**
   * This process has opened the datastore: workers started from now on bind to their step's
   * flow and the datastore while they boot, so a task sent to a warm worker finds it ready
   * (~10-30 ms a worker that a step's first task no longer waits for).
   */
  datastoreOpened(): void {
    this.datastoreOpen = true;
  }

  prewarm(step: StepRuntimeOptions): void {
    if (!step.decorators.isolate && !this.closed) this.pool(step);
  }

  run<R extends WorkerRequest>(step: StepRuntimeOptions, request: R): Promise<ResponseTo<R>> {
    // What comes back from a worker thread is untyped; task-worker.ts answers each request
    // kind with its ResponseTo type.
    return this.dispatch(step, request) as Promise<ResponseTo<R>>;
  }

  private dispatch(step: StepRuntimeOptions, request: WorkerRequest): Promise<unknown> {
    if (step.decorators.isolate) return this.runOn(this.createPool(step, 1), step, request);
    const pool = this.pool(step);
    const { piscina, gate } = pool;
    if (request.kind !== "task") return gate.run(() => this.runOn(piscina, step, request));
    // Per task, not per pool: a start step's pool is made for the parameters request, before
    // the step's decorators are known.
    if (this.tasksPerThread(step) === 1 && !step.decorators.timeout) {
      pool.batcher ??= new TaskBatcher(gate, (batch) => this.runBatch(piscina, step, batch), () => this.closed);
      return pool.batcher.run(request);
    }
    // Shared memory, not a message: the gate polls it, and a task's round trip stays one message each way.
    const progress = TaskProgress.forTasks(1);
    return gate.run(
      () => this.runOn(piscina, step, { ...request, progress: progress.ref(0) }),
      () => progress.startedAt(0),
    );
  }

  /** A batch of tasks on one worker; each task has its process table, closed when the batch is over. */
  private async runBatch(pool: Piscina, step: StepRuntimeOptions, batch: TaskBatch): Promise<TaskBatchResponse> {
    const tables = TaskProcessTable.many(batch.tasks.length);
    const tasks = batch.tasks.map((task, i) => ({ ...task, processTable: tables[i]!.ref }));
    try {
      return (await pool.run({ ...batch, tasks, setup: this.setupFor(step) })) as TaskBatchResponse;
    } catch (error) {
      throw describeWorkerDeath(error, step);
    } finally {
      await endProcesses(tables.flatMap((table) => table.close()));
    }
  }

  private async runOn(pool: Piscina, step: StepRuntimeOptions, request: WorkerRequest): Promise<unknown> {
    const seconds = step.decorators.timeout?.seconds;
    const processes = new TaskProcessTable();
    const setup = this.setupFor(step);
    const sent: WorkerMessage = request.kind === "task" ? { ...request, processTable: processes.ref, setup } : { ...request, setup };
    try {
      if (seconds && sent.kind === "task") return await runWithTimeout(pool, sent, seconds);
      return await pool.run(sent);
    } catch (error) {
      throw describeWorkerDeath(error, step);
    } finally {
      // Processes do not outlive their task, however it ended.
      await endProcesses(processes.close());
      if (step.decorators.isolate) void destroyWorkerPool(pool);
    }
  }

  release(step: string): void {
    for (const [key, pool] of this.pools) {
      if (!key.startsWith(`${step}\0`)) continue;
      this.pools.delete(key);
      void destroyWorkerPool(pool.piscina);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((pool) => destroyWorkerPool(pool.piscina)));
    this.pools.clear();
  }

  /** What a worker of `step` binds to: sent with every request, and at boot once the datastore is open. */
  private setupFor(step: StepRuntimeOptions): WorkerSetup {
    return { ...this.options.setup, flow: step.flow };
  }

  private pool(step: StepRuntimeOptions): StepPool {
    const key = `${step.step}\0${step.flow.url}\0${step.decorators.resources?.memory ?? ""}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const { maxWorkers } = this.options;
      const piscina = this.createPool(step, maxWorkers);
      const gate = new PoolGate(maxWorkers, availableParallelism());
      // A queue worker's threads all start at once (see newWorkerPool): its tasks spread over them from the first.
      if ((this.options.tasksPerThread ?? 1) > 1) gate.widenToCores();
      pool = { piscina, gate };
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Tasks one thread of the step's pool runs at once. */
  private tasksPerThread(step: StepRuntimeOptions): number {
    const { timeout, resources, isolate } = step.decorators;
    return timeout || resources?.memory !== undefined || isolate ? 1 : this.options.tasksPerThread ?? 1;
  }

  private createPool(step: StepRuntimeOptions, maxTasks: number): Piscina {
    const memory = step.decorators.resources?.memory;
    const perThread = Math.min(maxTasks, this.tasksPerThread(step));
    const setup = this.datastoreOpen ? this.setupFor(step) : undefined;
    if (perThread > 1) return newWorkerPool(Math.ceil(maxTasks / perThread), undefined, perThread, setup);
    return (memory === undefined && maxTasks > 1 && adoptFirstWorker()) || newWorkerPool(maxTasks, memory, 1, setup);
  }
}

/**
 * @timeout measures the step itself: the clock starts when the worker picks the task up,
 * not while it waits in the pool's queue or for a cold worker to boot.
 */
async function runWithTimeout(pool: Piscina, request: WorkerMessage & { kind: "task" }, seconds: number): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  port1.once("message", () => (timer = setTimeout(() => abort.abort(), seconds * 1000)));
  try {
    return await pool.run({ ...request, startedPort: port2 }, { transferList: [port2], signal: abort.signal });
  } finally {
    clearTimeout(timer);
    port1.close();
  }
}

function describeWorkerDeath(error: unknown, step: StepRuntimeOptions): TaskFailedError {
  const e = error as { name?: string; code?: string; message?: string };
  let reason: string;
  if (e.name === "AbortError" || /abort/i.test(e.message ?? "")) reason = `timed out after ${formatSeconds(step.decorators.timeout?.seconds ?? 0)}`;
  else if (e.code === "ERR_WORKER_OUT_OF_MEMORY" || /out of memory/i.test(e.message ?? "")) reason = outOfMemory(step.decorators.resources?.memory);
  else if (/exited with code/i.test(e.message ?? "")) reason = `exited with code ${/code:?\s*(-?\d+)/.exec(e.message!)?.[1] ?? "?"}`;
  else if (/terminating worker/i.test(e.message ?? "")) reason = "stopped: the run was cancelled";
  else reason = `lost its worker thread: ${e.message ?? String(error)}`;
  const failure = new TaskFailedError(`task ${reason}`, {
    hint: reason.startsWith("timed out") ? "raise @timeout or make the step faster"
      : reason.startsWith("exceeded") ? "raise @resources({ memory }) or process the data in smaller pieces"
      : reason.startsWith("ran out of memory") ? "set a limit with @resources({ memory: MB }) (or --with resources:memory=MB), or process the data in smaller pieces"
      : reason.startsWith("stopped") ? "resume the run to finish it"
      : "the step ended its worker thread; look at its log with `flowrun logs`",
    cause: error,
  });
  // An error thrown outside the step's own call (from a timer, an event handler) ends the
  // thread: its frames in the user's code say where, as a step's own error's do.
  const frames = userFrames((error as Error | undefined)?.stack);
  if (frames.length > 0) failure.stack = `${failure.name}: ${failure.message}\n${frames.join("\n")}`;
  return failure;
}

/**
 * A worker without @resources memory gets the heap limit Node gives any isolate in this
 * process (from --max-old-space-size or the machine's memory), the same as the main thread's.
 */
function outOfMemory(limitMb: number | undefined): string {
  if (limitMb !== undefined) return `exceeded ${limitMb} MB memory`;
  return `ran out of memory: its worker reached Node's default heap limit of about ${Math.round(getHeapStatistics().heap_size_limit / 2 ** 20)} MB`;
}

function formatSeconds(seconds: number): string {
  return seconds >= 60 ? `${+(seconds / 60).toFixed(1)} min` : `${seconds} s`;
}
