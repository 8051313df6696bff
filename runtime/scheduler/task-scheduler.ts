/**
 * Walks the flow's graph: starts `start`, and as each task commits, queues what follows it
 * (one task, one per branch, one per foreach element) or, for a join, counts arrivals until
 * every task of the split it closes is in. At most `maxWorkers` tasks run at once. Per
 * task it holds only what it needs to schedule (pathspecs, the foreach frame stack with
 * each frame's element ref), so a foreach of 10,000 splits stays small.
 *
 * Failure: a task is retried as its @retry says; once a task has failed for good nothing
 * new starts, the tasks already running finish and commit (so `resume` can reuse them),
 * and the run fails with that task's error.
 */
import { rehydrateError, serializeError, TaskFailedError, type SerializedError } from "../../src/core/errors.js";
import type { CurrentState } from "../../src/core/flow/current.js";
import type { FlowGraph, StepNode } from "../../src/core/graph/types.js";
import type { ArtifactRef } from "../datastore/content-store.js";
import type { StepRuntimeOptions } from "../executor/task-executor.js";
import { logKeyFor, type MetadataStore } from "../metadata/metadata-store.js";
import type { EarlierAttempt, ForeachFrame, TaskRecord } from "../metadata/records.js";
import type { ExpectedTransition, TaskRequest, TaskSuccess } from "../protocol.js";
import type { ResumePlan } from "../resume/resume-plan.js";
import { AttemptStoreError, type TaskRunner } from "./task-attempt.js";
import type { RunObserver, SplitPosition } from "./task-events.js";

export interface PendingTask {
  step: string;
  taskId: string;
  attempt: number;
  parents: string[];
  stack: ForeachFrame[];
  recordFailure?: SerializedError;
  /** The attempts that failed before this one. */
  earlierAttempts?: EarlierAttempt[];
}

export interface SchedulerOptions {
  graph: FlowGraph;
  runner: TaskRunner;
  metadata: MetadataStore;
  /** Told of every task start, finish, clone, retry and failure (the display). */
  observer: RunObserver;
  stepOptions: (step: string) => StepRuntimeOptions;
  currentBase: Omit<CurrentState, "stepName" | "taskId" | "retryCount">;
  parameterNames: string[];
  parameterRefs: Record<string, ArtifactRef>;
  maxWorkers: number;
  maxNumSplits: number;
  /** resume: origin tasks to clone instead of running. */
  resume?: ResumePlan;
}

export interface TaskFailureReport {
  pathspec: string;
  error: SerializedError;
}

export interface SchedulerOutcome {
  status: "succeeded" | "failed" | "cancelled";
  tasks: number;
  cloned: number;
  failures: TaskFailureReport[];
}

/**
 * How many transitions ahead a task warms the workers of the steps after it. A worker boots
 * in ~0.1 s of CPU, longer than many steps take. Measured on 2 cores, 10-step linear flow of
 * trivial steps: depth 2 ≈ 1.65 s, 4 ≈ 1.39 s, 9 (all) ≈ 1.38 s; deeper only holds more
 * idle workers.
 */
const PREWARM_DEPTH = 4;

export class TaskScheduler {
  private readonly queue = new TaskQueue();
  /** Per step: tasks queued, running, waiting to retry or waiting for a join's other inputs. */
  private readonly live = new Map<string, number>();
  private readonly released = new Set<string>();
  private readonly reach: Map<string, Set<string>>;
  private readonly arrivals = new Map<string, { arrived: number; parents: string[] }>();
  private running = 0;
  private taskCounter = 0;
  private completed = 0;
  private cloned = 0;
  private stopping: "failed" | "cancelled" | undefined;
  private readonly failures: TaskFailureReport[] = [];
  private finish!: (outcome: SchedulerOutcome) => void;

  /** Per step: the steps up to PREWARM_DEPTH transitions after it. */
  private readonly ahead: Map<string, Set<string>>;

  constructor(private readonly options: SchedulerOptions) {
    this.reach = reachability(options.graph);
    this.ahead = reachability(options.graph, PREWARM_DEPTH);
  }

  /** Runs the flow from `start` to the end. */
  run(): Promise<SchedulerOutcome> {
    const done = new Promise<SchedulerOutcome>((resolve) => (this.finish = resolve));
    this.enqueue({ step: "start", taskId: this.newTaskId(), attempt: 0, parents: [], stack: [] });
    this.pump();
    return done;
  }

  /** Stops scheduling; running tasks finish and commit. */
  cancel(): void {
    this.stopping ??= "cancelled";
    this.pump();
  }

  private newTaskId(): string {
    return String(++this.taskCounter);
  }

  private enqueue(task: PendingTask): void {
    this.hold(task.step, +1);
    this.queue.push(task);
  }

  private hold(step: string, delta: number): void {
    const n = (this.live.get(step) ?? 0) + delta;
    if (n > 0) this.live.set(step, n);
    else this.live.delete(step);
  }

  /**
   * A step none of whose ancestors (nor itself) has live tasks can never run again in this
   * run: its workers are stopped, so a long flow does not keep every step's threads.
   */
  private releaseFinishedSteps(): void {
    for (const step of this.options.graph.steps.keys()) {
      if (this.released.has(step) || [...this.live.keys()].some((a) => this.reach.get(a)!.has(step))) continue;
      this.released.add(step);
      this.options.runner.release(step);
    }
  }

  private pump(): void {
    while (!this.stopping && this.running < this.options.maxWorkers && this.queue.length > 0) {
      void this.dispatch(this.queue.shift()!);
    }
    if (!this.stopping) this.releaseFinishedSteps();
    if (this.running === 0 && (this.stopping || this.queue.length === 0)) {
      this.finish({
        status: this.stopping ?? (this.failures.length > 0 ? "failed" : "succeeded"),
        tasks: this.completed,
        cloned: this.cloned,
        failures: this.failures,
      });
    }
  }

  private async dispatch(task: PendingTask): Promise<void> {
    this.running++;
    const { graph, observer, currentBase } = this.options;
    const node = graph.steps.get(task.step)!;
    const pathspec = `${currentBase.flowName}/${currentBase.runId}/${task.step}/${task.taskId}`;
    const origin = task.attempt === 0 ? this.options.resume?.match(task.step, task.stack) : undefined;
    if (origin) return this.clone(task, node, pathspec, origin);
    const stepOptions = this.options.stepOptions(task.step);
    const retries = stepOptions.decorators.retry?.times ?? 0;
    const catchError = stepOptions.decorators.catchError;
    const now = new Date().toISOString();
    const record: TaskRecord = {
      flow: currentBase.flowName,
      runId: currentBase.runId,
      step: task.step,
      taskId: task.taskId,
      attempt: task.attempt,
      status: "running",
      startedAt: now,
      dispatchedAt: now,
      parents: task.parents,
      foreachStack: task.stack,
      logKey: logKeyFor(currentBase.flowName, currentBase.runId, task.step, task.taskId, task.attempt),
      ...(task.earlierAttempts && { earlierAttempts: task.earlierAttempts }),
    };
    const request: TaskRequest = {
      kind: "task",
      current: { ...currentBase, stepName: task.step, taskId: task.taskId, retryCount: task.attempt },
      step: task.step,
      isJoin: node.isJoin,
      expected: expectedTransition(node),
      source: { step: node.name, loc: node.loc, assignments: node.assignments ?? {} },
      parents: task.parents,
      parameterRefs: this.options.parameterRefs,
      parameterNames: this.options.parameterNames,
      foreachStack: task.stack,
      maxNumSplits: this.options.maxNumSplits,
      catchError: catchError && { ...catchError, lastAttempt: task.attempt >= retries },
      recordFailure: task.recordFailure,
      envVars: stepOptions.decorators.environment?.vars,
      card: stepOptions.decorators.card,
    };
    observer.task({ kind: "started", pathspec, attempt: task.attempt, split: splitPosition(task) });
    // Warm the workers of the next steps while this task runs: a cold worker takes
    // ~0.5 s of CPU, longer than many steps.
    for (const next of this.ahead.get(task.step)!) this.options.runner.prewarm(this.options.stepOptions(next));
    try {
      const outcome = await this.options.runner.run(stepOptions, { pathspec, request, record });
      if (outcome.ok) {
        this.completed++;
        observer.task({ kind: "finished", pathspec, attempt: task.attempt, durationMs: outcome.record.durationMs ?? 0, split: splitPosition(task), splits: outcome.result.foreachElements?.length });
        if (!this.stopping || this.stopping === "cancelled") this.schedule(node, task.taskId, task.stack, outcome.result);
      } else {
        this.retryOrFail(withAttempt(task, outcome.record), pathspec, outcome.error, retries, catchError !== undefined);
      }
    } catch (error) {
      // Storing the outcome failed (a full disk): the task's own error, the cause, comes first.
      if (error instanceof AttemptStoreError && error.taskError) this.fail(pathspec, error.taskError);
      this.fail(pathspec, serializeError(error instanceof AttemptStoreError ? error.storeError : error));
    } finally {
      this.settled(task);
    }
  }

  private settled(task: PendingTask): void {
    this.running--;
    this.hold(task.step, -1);
    this.pump();
  }

  /** resume: commits a copy of the origin's task (same artifact refs, no data copied) and moves on. */
  private async clone(task: PendingTask, node: StepNode, pathspec: string, origin: TaskRecord): Promise<void> {
    const { currentBase, metadata, observer } = this.options;
    try {
      const record: TaskRecord = {
        ...origin,
        runId: currentBase.runId,
        taskId: task.taskId,
        parents: task.parents,
        foreachStack: task.stack,
        clonedFrom: `${origin.flow}/${origin.runId}/${origin.step}/${origin.taskId}`,
      };
      const foreachElements = origin.next?.foreach ? await metadata.foreachElements(origin) : undefined;
      await metadata.commitTask(record, foreachElements);
      this.completed++;
      this.cloned++;
      observer.task({ kind: "cloned", pathspec, from: record.clonedFrom!, split: splitPosition(task) });
      this.schedule(node, task.taskId, task.stack, { next: origin.next ?? null, chosen: origin.chosen, foreachElements });
    } catch (error) {
      this.fail(pathspec, serializeError(error));
    } finally {
      this.settled(task);
    }
  }

  private retryOrFail(task: PendingTask, pathspec: string, error: SerializedError, retries: number, catches: boolean): void {
    const decorators = this.options.stepOptions(task.step).decorators;
    if (task.attempt < retries && !this.stopping) {
      this.options.observer.task({ kind: "retrying", pathspec, attempt: task.attempt + 1, of: retries, error: rehydrateError(error) });
      const delay = (decorators.retry?.delaySeconds ?? 0) * 1000;
      this.running++; // hold the run open while waiting
      this.hold(task.step, +1);
      setTimeout(() => {
        this.running--;
        this.hold(task.step, -1);
        this.enqueue({ ...task, attempt: task.attempt + 1 });
        this.pump();
      }, delay);
      return;
    }
    // The worker died on the last attempt (a thrown error would have been caught in it):
    // one more attempt records the failure as the @catchError artifact without running the step.
    if (catches && !task.recordFailure && error.name === TaskFailedError.name) {
      this.enqueue({ ...task, attempt: task.attempt + 1, recordFailure: error });
      return;
    }
    this.fail(pathspec, error);
  }

  private fail(pathspec: string, error: SerializedError): void {
    this.failures.push({ pathspec, error });
    this.options.observer.task({ kind: "failed", pathspec, error: rehydrateError(error) });
    // A cancelled run stays cancelled: tasks stopped by a second Ctrl-C fail as a consequence.
    this.stopping ??= "failed";
  }

  private schedule(node: StepNode, taskId: string, stack: ForeachFrame[], result: Pick<TaskSuccess, "next" | "chosen" | "foreachElements">): void {
    const next = result.next;
    if (!next) return;
    const from = `${this.options.currentBase.flowName}/${this.options.currentBase.runId}/${node.name}/${taskId}`;
    const split = `${node.name}/${taskId}`;
    if (next.foreach) {
      const elements = result.foreachElements ?? [];
      const target = next.targets[0]!;
      if (elements.length === 0) {
        // An empty foreach goes straight to its join with no inputs.
        this.enqueue({ step: node.matchingJoin ?? target, taskId: this.newTaskId(), attempt: 0, parents: [], stack });
        return;
      }
      elements.forEach((input, index) => this.follow(target, from, [...stack, { split, kind: "foreach", index, count: elements.length, input }]));
    } else if (next.condition) {
      this.follow(result.chosen!, from, stack);
    } else if (next.targets.length > 1) {
      next.targets.forEach((target, index) => this.follow(target, from, [...stack, { split, kind: "split", index, count: next.targets.length }]));
    } else {
      this.follow(next.targets[0]!, from, stack);
    }
  }

  private follow(step: string, parent: string, stack: ForeachFrame[]): void {
    if (!this.options.graph.steps.get(step)!.isJoin) {
      this.enqueue({ step, taskId: this.newTaskId(), attempt: 0, parents: [parent], stack });
      return;
    }
    const frame = stack.at(-1)!;
    const key = `${step}\0${frame.split}`;
    let entry = this.arrivals.get(key);
    if (!entry) {
      this.arrivals.set(key, (entry = { arrived: 0, parents: new Array(frame.count) }));
      this.hold(step, +1);
    }
    entry.parents[frame.index] = parent;
    if (++entry.arrived === frame.count) {
      this.arrivals.delete(key);
      this.hold(step, -1);
      this.enqueue({ step, taskId: this.newTaskId(), attempt: 0, parents: entry.parents, stack: stack.slice(0, -1) });
    }
  }
}

export function expectedTransition(node: StepNode): ExpectedTransition {
  return { kind: node.kind, next: node.next, foreach: node.foreach, condition: node.condition, switchCases: node.switchCases };
}

/** Every step within `depth` transitions of each step (all reachable by default), itself included. */
function reachability(graph: FlowGraph, depth = Infinity): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const start of graph.steps.keys()) {
    const seen = new Set<string>([start]);
    let frontier = [start];
    for (let d = 0; d < depth && frontier.length > 0; d++) {
      frontier = frontier.flatMap((step) => graph.steps.get(step)!.next).filter((step) => !seen.has(step));
      for (const step of frontier) seen.add(step);
    }
    out.set(start, seen);
  }
  return out;
}

/** FIFO without Array#shift's O(n) move per dequeue (10,000 splits queue at once). */
class TaskQueue {
  private items: PendingTask[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(task: PendingTask): void {
    this.items.push(task);
  }

  shift(): PendingTask | undefined {
    const task = this.items[this.head];
    this.items[this.head++] = undefined as unknown as PendingTask;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return task;
  }
}

/** The task with its failed attempt added to its history, for the record of the next one. */
function withAttempt(task: PendingTask, failed: TaskRecord): PendingTask {
  const { attempt, dispatchedAt, startedAt, finishedAt, exception } = failed;
  const summary: EarlierAttempt = { attempt, dispatchedAt, startedAt, finishedAt, error: exception && `${exception.name}: ${exception.message}` };
  return { ...task, earlierAttempts: [...(task.earlierAttempts ?? []), summary] };
}

function splitPosition(task: PendingTask): SplitPosition | undefined {
  const frame = task.stack.at(-1);
  return frame?.kind === "foreach" ? { split: frame.split, count: frame.count } : undefined;
}
