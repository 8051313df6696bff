/**
 * One attempt of one task, from its `running` record to its commit: what the scheduler hands
 * to a `TaskRunner`. The local runner does it all in this process (a worker thread runs the
 * step); a remote runner sends the attempt to a queue, where a `flowrun worker` does the same
 * with this module's `LocalTaskRunner`, so a task commits the same way wherever it ran.
 */
import { serializeError, type SerializedError } from "../../src/core/errors.js";
import { describeFailure, userSource } from "../../src/core/user-frames.js";
import type { StepRuntimeOptions, TaskExecutor } from "../executor/task-executor.js";
import type { MetadataStore } from "../metadata/metadata-store.js";
import type { TaskRecord } from "../metadata/records.js";
import type { TaskRequest, TaskResponse, TaskSuccess, WorkerTiming } from "../protocol.js";
import type { LogSink } from "./log-sink.js";
import type { RunTimings } from "./run-timings.js";

export interface TaskAttempt {
  pathspec: string;
  request: TaskRequest;
  /** The task's record as the scheduler made it (status `running`); the runner completes it. */
  record: TaskRecord;
}

/** How an attempt ended, once its outcome is stored: committed, or recorded as failed. */
export type AttemptOutcome =
  | { ok: true; record: TaskRecord; result: Pick<TaskSuccess, "next" | "chosen" | "foreachElements">; timing?: WorkerTiming }
  | { ok: false; record: TaskRecord; error: SerializedError; timing?: WorkerTiming };

/** Where the scheduler's tasks run: in this process, or on a queue's workers. */
export interface TaskRunner {
  /**
   * Runs the attempt and stores its outcome. Rejects only when the outcome could not be
   * stored (an `AttemptStoreError`) or the attempt was lost with its worker and nothing can
   * say how it ended.
   */
  run(step: StepRuntimeOptions, attempt: TaskAttempt): Promise<AttemptOutcome>;
  /** Starts the step's workers ahead of its first task, where that helps. */
  prewarm(step: StepRuntimeOptions): void;
  /** The step will not run again in this run. */
  release(step: string): void;
}

/** Storing an attempt's outcome failed; `taskError` is the task's own failure, when it had one: the cause. */
export class AttemptStoreError extends Error {
  constructor(readonly storeError: unknown, readonly taskError?: SerializedError) {
    super((storeError as Error)?.message ?? String(storeError), { cause: storeError });
  }
}

/**
 * Decides who may write a task's records when more than one process might (a queue re-runs
 * a task whose worker was lost, and the lost one may still finish): the first commit wins,
 * and nothing is written over a committed task.
 */
export interface CommitGuard {
  /** Whether this attempt may still write the task's `running` or `failed` record. */
  mayWrite(pathspec: string): Promise<boolean>;
  /** Claims the task's commit for this attempt; false when another attempt claimed it first. */
  claimCommit(pathspec: string): Promise<boolean>;
}

/** A task that another attempt committed first: this one's outcome is not stored. */
export class CommittedElsewhere extends Error {
  constructor(readonly pathspec: string) {
    super(`${pathspec} was committed by another attempt`);
  }
}

export interface LocalTaskRunnerOptions {
  executor: TaskExecutor;
  metadata: MetadataStore;
  logs: LogSink;
  timings?: RunTimings;
  /** Adds what the runtime knows to a task's error (a hint) before it is stored and reported. */
  explainFailure?: (step: string, error: SerializedError) => SerializedError;
  guard?: CommitGuard;
}

/** How long a task runs before its `running` record is written. */
export const RUNNING_RECORD_DELAY_MS = 100;

/** Runs attempts in this process's worker threads and stores their outcome in the datastore. */
export class LocalTaskRunner implements TaskRunner {
  constructor(private readonly options: LocalTaskRunnerOptions) {}

  prewarm(step: StepRuntimeOptions): void {
    this.options.executor.prewarm(step);
  }

  release(step: string): void {
    this.options.executor.release(step);
  }

  async run(step: StepRuntimeOptions, { pathspec, request, record: started }: TaskAttempt): Promise<AttemptOutcome> {
    const { executor, metadata, logs, timings, guard } = this.options;
    const attempt = request.current.retryCount;
    const record: TaskRecord = { ...started };
    const dispatched = Date.now();
    logs.open(pathspec, attempt, record.logKey);
    // The "running" record is for `flowrun logs`, the client and the UI while the task runs.
    // A task over before RUNNING_RECORD_DELAY_MS commits before anyone could have looked, and
    // writes its final record only: half the writes of a foreach of short tasks. The task need
    // not wait for this write (writes from this thread commit in order, so it lands before
    // the final one).
    let running: Promise<void> | undefined;
    const announce = setTimeout(() => {
      running = (async () => {
        if (!guard || (await guard.mayWrite(pathspec))) await metadata.putTask({ ...record });
      })();
      running.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    }, RUNNING_RECORD_DELAY_MS);
    let response: TaskResponse;
    let workerDied = false;
    try {
      response = await executor.run(step, request);
      timings?.addWorker(response.timing);
      if (response.startedAt) timings?.add("waitForWorker", response.startedAt - dispatched);
    } catch (error) {
      response = { kind: "task", ok: false, error: serializeError(error), logMessages: 0 };
      workerDied = true;
      logs.note(pathspec, attempt, "stderr", `${(error as Error).message}\n`);
    } finally {
      clearTimeout(announce);
    }
    // The attempt's log ends with its error, so `flowrun logs` tells why it failed (a dead
    // worker's reason is already there: it was shown as it happened).
    const epilogue = !response.ok && !workerDied ? { stream: "stderr" as const, text: `${describeFailure(response.error).join("\n")}\n` } : undefined;
    try {
      await running;
      await logs.drain(pathspec, attempt, response.logMessages, epilogue);
      // Timed from when a worker took the task up: waiting for a free or booting worker is
      // not the step's time. A worker that died before answering leaves only the dispatch time.
      const startedAt = response.startedAt ?? dispatched;
      const finished = Date.now();
      record.startedAt = new Date(startedAt).toISOString();
      record.finishedAt = new Date(finished).toISOString();
      record.durationMs = Math.max(0, finished - startedAt);
      if (response.card) record.card = response.card;
      if (response.ok) {
        record.status = "succeeded";
        record.artifacts = response.artifacts;
        record.next = response.next;
        record.chosen = response.chosen;
        if (guard && !(await guard.claimCommit(pathspec))) throw new CommittedElsewhere(pathspec);
        const commit = metadata.commitTask(record, response.foreachElements);
        await (timings ? timings.time("commit", commit) : commit);
        const { next, chosen, foreachElements } = response;
        return { ok: true, record, result: { next, chosen, foreachElements }, timing: response.timing };
      }
      const error = this.options.explainFailure?.(request.step, response.error) ?? response.error;
      record.status = "failed";
      record.exception = { ...error, source: userSource(error.stack) };
      if (!guard || (await guard.mayWrite(pathspec))) await metadata.putTask(record);
      return { ok: false, record, error, timing: response.timing };
    } catch (error) {
      if (error instanceof CommittedElsewhere) throw error;
      throw new AttemptStoreError(error, response.ok ? undefined : response.error);
    }
  }
}
