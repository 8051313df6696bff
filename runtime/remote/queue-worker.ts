/**
 * `flowrun worker`: takes task attempts from a BullMQ queue and runs each as a local run
 * would, in a worker thread of its step's pool (same isolation, decorators and commit
 * protocol: `LocalTaskRunner`), against the run's S3 datastore. The run's code comes from
 * its code package, its npm packages from an environment built here.
 *
 * Faults: a worker killed mid-task stops renewing its job's lock; another worker's stalled
 * check puts the job back and it runs again there. If the first one was only frozen and
 * finishes late, the commit claim in Redis (first claim wins) keeps it from writing over
 * the winner, and a re-run of a task that did commit answers with that commit.
 */
import { availableParallelism, hostname } from "node:os";
import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { config } from "../../src/core/config.js";
import type { DatastoreConfig } from "../../src/core/datastore-config.js";
import { FlowrunError, RemoteQueueError, type SerializedError } from "../../src/core/errors.js";
import { packageVersion } from "../../src/core/package-version.js";
import { compileFlow } from "../compile/flow-compiler.js";
import { openBackend } from "../datastore/open-backend.js";
import type { StorageBackend } from "../datastore/storage-backend.js";
import type { StepRuntimeOptions, TaskExecutor } from "../executor/task-executor.js";
import { WorkerPoolExecutor } from "../executor/worker-pool-executor.js";
import { MetadataStore } from "../metadata/metadata-store.js";
import type { ResponseTo, WorkerRequest } from "../protocol.js";
import { withMissingPackageHint } from "../environments/missing-package-hint.js";
import { LogSink } from "../scheduler/log-sink.js";
import { CommittedElsewhere, LocalTaskRunner, type AttemptOutcome, type CommitGuard } from "../scheduler/task-attempt.js";
import { checkoutCodePackage, type CheckedOutCode, type CodePackageRef } from "./code-package.js";
import { connectRedis, displayUrl } from "./redis-connection.js";
import { commitClaimKey, REDIS_PREFIX, type RemoteLogLine, type RemoteTaskJob, type RemoteTaskResult } from "./remote-job.js";
import { WorkerRegistry } from "./worker-registry.js";

const COMMIT_CLAIM_SECONDS = 7 * 86_400;
/** A run's pools and log sink are closed once it has sent no task for this long. */
const IDLE_RUN_MS = 60_000;
/** How long a re-run waits for the commit of the attempt that claimed it first. */
const CLAIMED_COMMIT_WAIT_MS = 30_000;

export interface QueueWorkerOptions {
  redisUrl: string;
  queue: string;
  concurrency: number;
  datastore: DatastoreConfig;
  /** Seconds a job's lock lasts without renewal: how soon a killed worker's tasks run elsewhere. */
  lockSeconds: number;
  /** One line per event worth showing (a task taken, finished, failed). */
  log: (line: string) => void;
}

/** A run this worker has taken tasks of: its threads, its output, its code. */
interface RunContext {
  executor: WorkerPoolExecutor;
  logs: LogSink;
  code?: Promise<CheckedOutCode>;
  steps: Map<string, Promise<StepRuntimeOptions>>;
  active: number;
  lastUsed: number;
}

export class QueueWorker {
  readonly id = `${hostname()}/${process.pid}`;
  private readonly version = packageVersion();
  private readonly runs = new Map<string, RunContext>();
  private readonly guard: CommitGuard;
  private worker?: Worker<RemoteTaskJob, RemoteTaskResult>;
  private sweeper?: NodeJS.Timeout;

  private constructor(
    private readonly options: QueueWorkerOptions,
    private readonly redis: Redis,
    private readonly backend: StorageBackend,
    private readonly metadata: MetadataStore,
    private readonly registry: WorkerRegistry,
  ) {
    this.guard = {
      mayWrite: async (pathspec) => (await redis.exists(commitClaimKey(pathspec))) === 0,
      claimCommit: async (pathspec) => (await redis.set(commitClaimKey(pathspec), this.id, "EX", COMMIT_CLAIM_SECONDS, "NX")) === "OK",
    };
  }

  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    const redis = await connectRedis(options.redisUrl);
    const backend = await openBackend(options.datastore);
    const registry = new WorkerRegistry(redis);
    const self = new QueueWorker(options, redis, backend, new MetadataStore(backend), registry);
    self.worker = new Worker<RemoteTaskJob, RemoteTaskResult>(options.queue, (job) => self.process(job), {
      // BullMQ adds a connection of its own for the blocking wait for jobs, closed with the worker.
      connection: redis,
      prefix: REDIS_PREFIX,
      concurrency: options.concurrency,
      lockDuration: options.lockSeconds * 1000,
      stalledInterval: Math.max(1000, (options.lockSeconds * 1000) / 2),
      maxStalledCount: 2,
    });
    self.worker.on("error", () => {}); // reconnecting is BullMQ's job; without a listener it is printed
    registry.start({ id: self.id, queue: options.queue, concurrency: options.concurrency, version: self.version, datastore: options.datastore.root, startedAt: new Date().toISOString() });
    self.sweeper = setInterval(() => self.closeIdleRuns(), IDLE_RUN_MS / 4).unref();
    options.log(`worker ${self.id} (flowrun ${self.version}) serves queue ${options.queue} on ${displayUrl(options.redisUrl)} (concurrency ${options.concurrency}, datastore ${backend.location})`);
    return self;
  }

  /** Takes no new task; waits for the running ones to finish and commit (unless `force`). */
  async close(force = false): Promise<void> {
    clearInterval(this.sweeper);
    await this.worker?.close(force);
    await this.registry.stop();
    await Promise.all([...this.runs.keys()].map((run) => this.closeRun(run)));
    await this.backend.close();
    this.redis.disconnect();
  }

  private async process(job: Job<RemoteTaskJob, RemoteTaskResult>): Promise<RemoteTaskResult> {
    const data = job.data;
    const { pathspec } = data.attempt;
    this.checkVersion(data.flowrun);
    this.checkDatastore(data.datastore);
    // A re-run of a task another attempt committed (its worker died before saying so): that commit is the answer.
    if (!(await this.guard.mayWrite(pathspec))) return { outcome: await this.committedOutcome(pathspec) };
    const runKey = `${data.attempt.record.flow}/${data.attempt.record.runId}`;
    const run = this.runContext(runKey, data.logChannel);
    run.active++;
    this.registry.taskStarted(pathspec);
    const started = Date.now();
    this.options.log(`[${pathspec}] ${job.attemptsStarted > 1 || job.stalledCounter > 0 ? "runs again (its last worker was lost)" : "started"}`);
    try {
      const step = await this.stepOptions(run, data);
      const runner = new LocalTaskRunner({
        executor: inSourcePaths(run.executor, data.code, step),
        metadata: this.metadata,
        logs: run.logs,
        guard: this.guard,
        explainFailure: (name, error) => withMissingPackageHint(error, name, new Map(Object.entries(data.declared))),
      });
      let outcome: AttemptOutcome;
      try {
        outcome = await runner.run(step, { ...data.attempt, record: { ...data.attempt.record, worker: this.id } });
      } catch (error) {
        if (!(error instanceof CommittedElsewhere)) throw error;
        outcome = await this.committedOutcome(pathspec);
      }
      this.options.log(`[${pathspec}] ${outcome.ok ? "finished" : `failed: ${outcome.error.message.split("\n")[0]}`} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return { outcome };
    } catch (error) {
      this.options.log(`[${pathspec}] could not run: ${(error as Error).message}`);
      throw error;
    } finally {
      run.active--;
      run.lastUsed = Date.now();
      this.registry.taskFinished(pathspec);
    }
  }

  /** A run and its workers run the same flowrun: the job's shape, the artifact encoding and the commit protocol are its. */
  private checkVersion(version: string | undefined): void {
    if (version !== this.version) {
      throw new RemoteQueueError(`worker ${this.id} runs flowrun ${this.version}; this run was started by flowrun ${version ?? "(unknown)"}`, {
        hint: "run the same flowrun version on the machine that starts runs and on its workers (or give each version a queue of its own)",
      });
    }
  }

  private checkDatastore(datastore: DatastoreConfig): void {
    const mine = this.options.datastore;
    if (datastore.kind !== mine.kind || datastore.root.replace(/\/+$/, "") !== mine.root.replace(/\/+$/, "")) {
      throw new RemoteQueueError(`worker ${this.id} serves ${mine.root}; this run writes to ${datastore.root}`, {
        hint: "start workers with the run's --datastore-root, or give runs on another datastore a queue of their own (--with remote:queue=NAME)",
      });
    }
  }

  private runContext(runKey: string, logChannel: string): RunContext {
    let run = this.runs.get(runKey);
    if (!run) {
      const channel = `flowrun-logs-${runKey.replace(/\W/g, "-")}-${process.pid}`;
      const publish = (line: RemoteLogLine) => void this.redis.publish(logChannel, JSON.stringify(line)).catch(() => {});
      const executor = new WorkerPoolExecutor({
        setup: { datastore: this.options.datastore, logChannel: channel },
        maxWorkers: this.options.concurrency,
        // More tasks than cores: threads take several each (their waits overlap) instead of one cold thread per task.
        tasksPerThread: Math.ceil(this.options.concurrency / availableParallelism()),
      });
      // This process opened the datastore as it started (QueueWorker.start): its threads bind as they boot.
      executor.datastoreOpened();
      run = {
        executor,
        logs: new LogSink(channel, this.metadata, { line: (pathspec, stream, text) => publish({ pathspec, stream, text }) }),
        steps: new Map(),
        active: 0,
        lastUsed: Date.now(),
      };
      this.runs.set(runKey, run);
    }
    return run;
  }

  /** The step as this machine runs it: the run's code unpacked, its packages installed here, compiled. */
  private stepOptions(run: RunContext, data: RemoteTaskJob): Promise<StepRuntimeOptions> {
    const step = data.attempt.request.step;
    let options = run.steps.get(step);
    if (!options) {
      options = (async () => {
        const code = await (run.code ??= checkoutCodePackage(data.code, this.backend, config.codePackageDir()));
        const packages = { ...code.packages, ...data.declared[step] };
        let envDir: string | undefined;
        if (Object.keys(packages).length > 0) {
          const { ensureEnvironment } = await import("../environments/environment-builder.js");
          const label = `${data.attempt.record.flow}/${step}`;
          const env = await ensureEnvironment(packages, { lock: data.environmentLock, label, onProgress: (line) => this.options.log(`[${label}] environment: ${line}`) });
          if (env.built) this.options.log(`[${label}] environment ${env.id} built`);
          envDir = env.dir;
        }
        return { step, decorators: data.decorators, envDir, flow: await compileFlow(code.flowFile, { envDir }) };
      })();
      // A failure is not cached: the next task of the step tries again.
      options.catch(() => run.steps.delete(step));
      run.steps.set(step, options);
    }
    return options;
  }

  /** The outcome another attempt committed, read back from the datastore. */
  private async committedOutcome(pathspec: string): Promise<AttemptOutcome> {
    const [flow, runId, step, taskId] = pathspec.split("/") as [string, string, string, string];
    const deadline = Date.now() + CLAIMED_COMMIT_WAIT_MS;
    while (!(await this.metadata.isDone(flow, runId, step, taskId))) {
      if (Date.now() > deadline) throw new FlowrunError(`${pathspec} was claimed by another attempt that never committed it`, { hint: "resume the run to run it again" });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const record = (await this.metadata.getTask(flow, runId, step, taskId))!;
    const foreachElements = record.next?.foreach ? await this.metadata.foreachElements(record) : undefined;
    return { ok: true, record, result: { next: record.next ?? null, chosen: record.chosen, foreachElements } };
  }

  private closeIdleRuns(): void {
    for (const [runKey, run] of this.runs) {
      if (run.active === 0 && Date.now() - run.lastUsed > IDLE_RUN_MS) void this.closeRun(runKey);
    }
  }

  private async closeRun(runKey: string): Promise<void> {
    const run = this.runs.get(runKey);
    if (!run) return;
    this.runs.delete(runKey);
    await run.executor.close();
    await run.logs.close();
  }
}

/**
 * The run's executor, with errors naming the files where the user has them (the CLI's
 * machine) instead of this worker's code cache.
 */
function inSourcePaths(executor: TaskExecutor, code: CodePackageRef, step: StepRuntimeOptions): TaskExecutor {
  const unpacked = step.flow.file.slice(0, step.flow.file.length - code.flow.length - 1);
  const rewrite = (text: string) => text.replaceAll(unpacked, code.root);
  const mapError = (error: SerializedError): SerializedError => ({
    ...error,
    message: rewrite(error.message),
    stack: error.stack && rewrite(error.stack),
    cause: error.cause && mapError(error.cause),
  });
  return {
    run: async <R extends WorkerRequest>(options: StepRuntimeOptions, request: R): Promise<ResponseTo<R>> => {
      const response = await executor.run(options, request);
      if (!response.ok) response.error = mapError(response.error);
      return response;
    },
    prewarm: (options) => executor.prewarm(options),
    release: (name) => executor.release(name),
    close: () => executor.close(),
  };
}
