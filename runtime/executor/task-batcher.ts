/**
 * Sends a step's waiting tasks to its workers several to a message, once they have shown
 * themselves short. A trivial foreach split takes its worker ~0.3 ms, and a message each
 * way (a structured clone, piscina's bookkeeping, a thread wake-up) for each: posting them
 * alone was ~0.15 ms of the CLI's ~0.5 ms per split. A batch pays that once for tasks that
 * together take about `BATCH_MS`.
 *
 * Tasks are batched only while they wait: a task that arrives while the pool's gate has
 * room goes out alone at once, so a step whose workers keep up, and any step's first
 * tasks, run exactly as without batching. How many a batch takes comes from how long the
 * step's tasks have taken so far. The worker starts no task of a batch once `BUDGET_MS` have
 * passed, so a step whose tasks turn long does not hold the rest of a batch back for long:
 * they come back unstarted and wait for the next free worker.
 *
 * A worker lost mid-batch (a crash, `process.exit` in a step) fails only the task it was
 * running, as it would unbatched. The tasks it had finished are answered from the batch's
 * TaskProgress, where the worker kept each answer as the task finished, so they do not run
 * twice; those it had not started are sent again.
 */
import type { TaskBatch, TaskBatchResponse, TaskRequest, TaskResponse } from "../protocol.js";
import { TaskProgress } from "../task-progress.js";
import type { PoolGate } from "./pool-gate.js";

/** How long the tasks of one batch should take together, by the step's tasks so far. */
const BATCH_MS = 10;
/** The worker starts no task of a batch after this long. */
const BUDGET_MS = 20;
const MAX_BATCH = 64;
/**
 * Room for each task's answer in the batch's shared memory, until the step's answers are
 * known: a trivial split's is ~0.3 KB, and each artifact it has (its parents' included) adds
 * ~0.1 KB. A batch whose answers outgrow their room ends early, its worker answering at once,
 * and the next batches get twice the largest answer seen, up to `MAX_ANSWER_BYTES` a batch.
 */
const ANSWER_BYTES_PER_TASK = 4096;
const MAX_ANSWER_BYTES = 1024 * 1024;
/**
 * Tasks this long on average keep more than one worker busy: below it, one worker gets
 * through its tasks faster than the CLI commits them (~0.3-0.5 ms each).
 */
const WORTH_A_CORE_MS = 1;
const JUDGED_BATCHES = 3;

interface WaitingTask {
  request: TaskRequest;
  resolve: (response: TaskResponse) => void;
  reject: (error: unknown) => void;
}

/** Runs a batch on a worker; rejects when the worker died, with the error to fail its running task with. */
export type SendBatch = (batch: TaskBatch) => Promise<TaskBatchResponse>;

export class TaskBatcher {
  private readonly waiting: WaitingTask[] = [];
  /** A gate entry is queued that will take the waiting tasks when it gets its turn. */
  private entryQueued = false;
  /** Tasks in batches on their way to a worker or running there. */
  private sent = 0;
  /** Mean duration of the step's tasks so far (ms, recent ones weigh more); undefined before any. */
  private meanTaskMs: number | undefined;
  /** Time per task of the last JUDGED_BATCHES batches. */
  private readonly recentPerTask: number[] = [];
  /** Room for each task's answer in a batch's TaskProgress. */
  private answerBytes = ANSWER_BYTES_PER_TASK;

  constructor(
    private readonly gate: PoolGate,
    private readonly send: SendBatch,
    /** Whether the pool was stopped (a second Ctrl-C): nothing is sent again. */
    private readonly stopped: () => boolean,
  ) {}

  run(request: TaskRequest): Promise<TaskResponse> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      this.admit();
    });
  }

  /** Queues one gate entry for the waiting tasks (it starts at once when the gate has room). */
  private admit(): void {
    if (this.entryQueued || this.waiting.length === 0) return;
    this.entryQueued = true;
    let progress: TaskProgress | undefined;
    void this.gate.run(
      () => {
        this.entryQueued = false;
        const tasks = this.waiting.splice(0, this.batchSize());
        progress = TaskProgress.forTasks(tasks.length, Math.min(tasks.length * this.answerBytes, MAX_ANSWER_BYTES));
        this.admit();
        return this.runBatch(tasks, progress);
      },
      // The gate widens for tasks that run long: the batch's task running now.
      () => progress?.lastStart(),
    );
  }

  private batchSize(): number {
    if (this.meanTaskMs === undefined) return 1;
    // The step's tasks spread evenly over the workers the pool runs at once: one batch
    // taking all that waits would leave the other workers a task at a time.
    const share = Math.ceil((this.waiting.length + this.sent) / this.gate.width);
    return Math.max(1, Math.min(share, MAX_BATCH, Math.floor(BATCH_MS / Math.max(this.meanTaskMs, 0.01))));
  }

  private async runBatch(tasks: WaitingTask[], progress: TaskProgress): Promise<void> {
    const batch: TaskBatch = { kind: "batch", budgetMs: BUDGET_MS, tasks: tasks.map((t, i) => ({ ...t.request, progress: progress.ref(i) })) };
    let responses: TaskResponse[];
    this.sent += tasks.length;
    try {
      ({ responses } = await this.send(batch));
    } catch (error) {
      this.afterDeath(tasks, progress, error);
      return;
    } finally {
      this.sent -= tasks.length;
      this.answerBytes = Math.max(this.answerBytes, 2 * progress.largestAnswer());
    }
    this.answer(tasks, responses);
    this.sendAgain(tasks.slice(responses.length));
  }

  /**
   * The worker died in the batch. Tasks run in order: those it finished are answered as they
   * ran; the next one fails if it had started (the worker died in it), or if none had finished
   * (it died before it started any: sent again, it could kill worker after worker). What is
   * left is sent again.
   */
  private afterDeath(tasks: WaitingTask[], progress: TaskProgress, error: unknown): void {
    const finished = progress.recorded<TaskResponse>();
    this.answer(tasks, finished);
    const rest = tasks.slice(finished.length);
    const failed = rest.length > 0 && (finished.length === 0 || progress.startedAt(finished.length) !== undefined) ? 1 : 0;
    if (failed) rest[0]!.reject(error);
    this.sendAgain(rest.slice(failed), error);
  }

  /** The batch's first tasks, with the responses the worker gave them. */
  private answer(tasks: WaitingTask[], responses: TaskResponse[]): void {
    if (responses.length === 0) return;
    this.learn(responses);
    responses.forEach((response, i) => tasks[i]!.resolve(response));
  }

  private sendAgain(tasks: WaitingTask[], error?: unknown): void {
    if (tasks.length === 0) return;
    if (this.stopped()) {
      for (const task of tasks) task.reject(error ?? new Error("the worker pool was stopped"));
      return;
    }
    this.waiting.unshift(...tasks);
    this.admit();
  }

  /** The step's time per task in this batch, as its worker measured it. */
  private learn(responses: TaskResponse[]): void {
    let total = 0;
    for (const { timing } of responses) total += (timing?.inputsMs ?? 0) + (timing?.bodyMs ?? 0) + (timing?.saveMs ?? 0);
    const perTask = total / responses.length;
    this.meanTaskMs = this.meanTaskMs === undefined ? perTask : 0.7 * this.meanTaskMs + 0.3 * perTask;
    // A worker's first task runs cold (several ms for a trivial one): judged on the last few batches, all of them.
    this.recentPerTask.push(perTask);
    if (this.recentPerTask.length > JUDGED_BATCHES) this.recentPerTask.shift();
    if (this.recentPerTask.length === JUDGED_BATCHES && Math.min(...this.recentPerTask) >= WORTH_A_CORE_MS) this.gate.widenToCores();
  }
}
