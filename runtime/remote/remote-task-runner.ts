/**
 * The CLI's side of remote steps: each attempt becomes one BullMQ job on the step's queue
 * (a foreach fans out into one job per split), a `flowrun worker` anywhere runs and commits
 * it, and its return value comes back on the queue's event stream. The CLI stays the
 * orchestrator: retries, joins and what runs next are decided here, as for local steps.
 *
 * Output lines come back live over Redis pub/sub and are shown with the usual prefixes; the
 * worker stores them with the task. A job that fails on the queue (its worker was lost more
 * than once, its code could not be fetched) fails the attempt like a dead worker thread.
 */
import { Queue, QueueEvents, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { RemoteQueueError, serializeError, TaskFailedError } from "../../src/core/errors.js";
import type { DatastoreConfig } from "../../src/core/datastore-config.js";
import { packageVersion } from "../../src/core/package-version.js";
import type { StepRuntimeOptions } from "../executor/task-executor.js";
import type { MetadataStore } from "../metadata/metadata-store.js";
import type { RunObserver } from "../scheduler/task-events.js";
import type { AttemptOutcome, TaskAttempt, TaskRunner } from "../scheduler/task-attempt.js";
import type { CodePackageRef } from "./code-package.js";
import { connectRedis, displayUrl, watchConnection } from "./redis-connection.js";
import { listWorkers } from "./worker-registry.js";
import { DEFAULT_QUEUE, logChannelOf, REDIS_PREFIX, type RemoteLogLine, type RemoteTaskJob, type RemoteTaskResult } from "./remote-job.js";

/**
 * Finished jobs kept in Redis for inspection: an outcome reaches the CLI on the event stream,
 * and the datastore has the task, so Redis keeps only the recent ones (a job is a few KB).
 */
const KEEP_COMPLETED = { age: 3600, count: 1000 };
const KEEP_FAILED = { age: 86_400, count: 10_000 };

export interface RemoteTaskRunnerOptions {
  redisUrl: string;
  datastore: DatastoreConfig;
  code: CodePackageRef;
  /** `Flow/runId` */
  run: string;
  metadata: MetadataStore;
  /** Every step's `@dependencies`, and the versions the run recorded for the step's. */
  environment: (step: string) => Pick<RemoteTaskJob, "declared" | "environmentLock">;
  /** Shows the remote tasks' output lines, and a queue no worker serves. */
  observer: RunObserver;
}

interface PendingJob {
  queue: string;
  attempt: TaskAttempt;
  resolve: (outcome: AttemptOutcome) => void;
  reject: (error: unknown) => void;
}

interface QueueHandle {
  queue: Queue;
  events?: QueueEvents;
  ready: Promise<void>;
  /** Jobs to add at the end of this tick, in one round trip. */
  batch: Array<{ name: string; data: RemoteTaskJob; opts: JobsOptions }>;
}

export class RemoteTaskRunner implements TaskRunner {
  private readonly queues = new Map<string, QueueHandle>();
  private readonly pending = new Map<string, PendingJob>();
  private lost: RemoteQueueError | undefined;
  private stopWatching: () => void = () => {};

  private constructor(
    private readonly options: RemoteTaskRunnerOptions,
    private readonly connection: Redis,
    private readonly subscriber: Redis,
  ) {}

  /** Connects (a one-line RemoteQueueError when Redis does not answer) and starts relaying the run's output. */
  static async open(options: RemoteTaskRunnerOptions): Promise<RemoteTaskRunner> {
    // The run gives up on a Redis that stays away (it fails, to be resumed); its connections then end.
    const connection = await connectRedis(options.redisUrl, { giveUp: true });
    const subscriber = connection.duplicate();
    subscriber.on("error", () => {});
    const runner = new RemoteTaskRunner(options, connection, subscriber);
    await subscriber.subscribe(logChannelOf(options.run));
    subscriber.on("message", (_channel: string, message: string) => {
      const line = JSON.parse(message) as RemoteLogLine;
      options.observer.line(line.pathspec, line.stream, line.text);
    });
    runner.stopWatching = watchConnection(connection, options.redisUrl, (error) => runner.fail(error));
    return runner;
  }

  prewarm(): void {}

  release(): void {}

  async run(step: StepRuntimeOptions, attempt: TaskAttempt): Promise<AttemptOutcome> {
    if (this.lost) throw this.lost;
    const queueName = step.decorators.remote?.queue ?? DEFAULT_QUEUE;
    const handle = this.queue(queueName);
    await handle.ready;
    const jobId = `${attempt.pathspec}/${attempt.request.current.retryCount}`;
    const data: RemoteTaskJob = {
      flowrun: packageVersion(),
      datastore: this.options.datastore,
      code: this.options.code,
      decorators: step.decorators,
      ...this.options.environment(step.step),
      attempt,
      logChannel: logChannelOf(this.options.run),
    };
    const result = new Promise<AttemptOutcome>((resolve, reject) => this.pending.set(jobId, { queue: queueName, attempt, resolve, reject }));
    if (handle.batch.push({ name: step.step, data, opts: { jobId, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED } }) === 1) {
      setImmediate(() => void this.flush(handle));
    }
    return result;
  }

  /** Stops the run's jobs that no worker has taken yet; those running finish and commit. */
  async cancel(): Promise<void> {
    await Promise.all(
      [...this.pending].map(async ([jobId, job]) => {
        const removed = await this.queues.get(job.queue)?.queue.remove(jobId).catch(() => 0);
        if (removed) this.settle(jobId, (p) => p.reject(new TaskFailedError("task stopped: the run was cancelled", { hint: "resume the run to finish it" })));
      }),
    );
  }

  async close(): Promise<void> {
    this.stopWatching();
    await Promise.all([...this.queues.values()].map(async ({ queue, events }) => {
      // With Redis gone a graceful close would wait for it forever: drop the connections (BullMQ's
      // disconnect of an ended connection may not settle either, so it gets a second).
      if (this.lost) await Promise.race([Promise.all([events?.disconnect(), queue.disconnect()]), new Promise((resolve) => setTimeout(resolve, 1000))]);
      else await Promise.all([events?.close(), queue.close()]);
    }));
    this.connection.disconnect();
    this.subscriber.disconnect();
  }

  private queue(name: string): QueueHandle {
    let handle = this.queues.get(name);
    if (handle) return handle;
    const connection = this.connection;
    const queue = new Queue(name, { connection, prefix: REDIS_PREFIX });
    queue.on("error", () => {}); // a lost connection is watched; without a listener it is printed
    const eventsKey = `${REDIS_PREFIX}:${name}:events`;
    const ready = (async () => {
      // Events from now on: the stream's last id before the first job is added, so none is missed.
      const last = (await connection.xrevrange(eventsKey, "+", "-", "COUNT", 1))[0]?.[0] ?? "0-0";
      // BullMQ gives it a connection of its own (it blocks reading the stream), closed with it.
      const events = new QueueEvents(name, { connection, prefix: REDIS_PREFIX, lastEventId: last });
      events.on("error", () => {});
      events.on("completed", ({ jobId, returnvalue }) => this.completed(jobId, returnvalue));
      events.on("failed", ({ jobId, failedReason }) => this.failed(jobId, failedReason));
      handle!.events = events;
      await events.waitUntilReady();
      if ((await listWorkers(connection, name)).length === 0) {
        this.options.observer.info(`warning: no worker serves queue ${name} at ${displayUrl(this.options.redisUrl)} yet; its tasks wait until one does: \`flowrun worker --redis ${displayUrl(this.options.redisUrl)} --queue ${name} --datastore s3 --datastore-root ${this.options.datastore.root}\``);
      }
    })();
    handle = { queue, ready, batch: [] };
    this.queues.set(name, handle);
    return handle;
  }

  private async flush(handle: QueueHandle): Promise<void> {
    const jobs = handle.batch;
    handle.batch = [];
    try {
      await handle.queue.addBulk(jobs);
    } catch (error) {
      for (const job of jobs) this.settle(job.opts.jobId!, (p) => p.reject(this.lost ?? error));
    }
  }

  private completed(jobId: string, returnvalue: unknown): void {
    this.settle(jobId, (job) => {
      const result = (typeof returnvalue === "string" ? JSON.parse(returnvalue) : returnvalue) as RemoteTaskResult;
      job.resolve(result.outcome);
    });
  }

  /** The job failed on the queue, not in the step (that is an outcome): recorded as the attempt's failure. */
  private failed(jobId: string, reason: string): void {
    this.settle(jobId, (job) => {
      const stalled = /stalled more than allowable limit/i.test(reason);
      const error = serializeError(new TaskFailedError(stalled ? "task lost its worker on every try (the workers running it stopped answering)" : `task failed on the queue: ${reason}`, {
        where: job.attempt.pathspec,
        hint: stalled ? "look at the workers' own output (`flowrun workers` lists them); resume the run to retry" : "look at the output of the `flowrun worker` that took it",
      }));
      const record = { ...job.attempt.record, status: "failed" as const, finishedAt: new Date().toISOString(), exception: error };
      this.options.metadata.putTask(record).then(
        () => job.resolve({ ok: false, record, error }),
        (storeError: unknown) => job.reject(storeError),
      );
    });
  }

  private settle(jobId: string, how: (job: PendingJob) => void): void {
    const job = this.pending.get(jobId);
    if (!job) return;
    this.pending.delete(jobId);
    how(job);
  }

  private fail(error: RemoteQueueError): void {
    this.lost = error;
    for (const jobId of [...this.pending.keys()]) this.settle(jobId, (job) => job.reject(error));
  }
}
