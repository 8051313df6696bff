/**
 * How many of a step's tasks its worker pool runs at once, up to `--max-workers`.
 *
 * A pool starts with one worker. It grows to as many as the machine has cores once its tasks
 * prove more than trivial: every running task has run for SHORT_PATIENCE_MS, or the step's
 * tasks take a millisecond or more on average (`widenToCores`, from TaskBatcher). A foreach
 * of trivial splits keeps one worker, which a batch at a time keeps ahead of the CLI's own
 * work per task: a second would cost its cold start (~0.1 s of CPU) and a core's share for
 * nothing. It opens up to its maximum once tasks wait while every task in a worker has been
 * running for `patienceMs`: long tasks (waiting on I/O, a subprocess, the network, or
 * computing for a while) then all run at once, as Metaflow runs `--max-workers` processes.
 * Short tasks never open it: with 1,000 trivial splits a worker frees up within
 * milliseconds, and 16 threads would cost 16 cold starts for no gain. A task still waiting
 * for its worker to boot tells nothing either way and is left out; with none started yet,
 * the pool waits.
 *
 * Piscina starts a thread whenever a task is queued and no thread is free, so the number of
 * tasks let through here is the number of threads the pool grows to.
 */

/** How long every running task must have run before waiting tasks get threads of their own. */
export const DEFAULT_PATIENCE_MS = 500;
/**
 * How long every running task must have run before the pool grows from one worker to one
 * per core. Well above a trivial task: a batch's last task looks as if it runs on until the
 * CLI, busy with others, takes its answer.
 */
const SHORT_PATIENCE_MS = 20;
/** The shortest period at which waiting tasks check whether to open up. */
const MIN_WATCH_MS = 5;

/** When a task let through was taken up by a worker (epoch ms), or undefined while it waits for one. */
export type StartProbe = () => number | undefined;

interface Running {
  startedAt: StartProbe;
}

export class PoolGate {
  private allowed = 1;
  private readonly cores: number;
  private readonly running = new Set<Running>();
  private readonly waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly max: number,
    cores: number,
    private readonly patienceMs = DEFAULT_PATIENCE_MS,
  ) {
    this.cores = Math.max(1, Math.min(max, cores));
  }

  /** The step's tasks are not trivial: the pool may run one per core at once. */
  widenToCores(): void {
    if (this.allowed >= this.cores) return;
    this.allowed = this.cores;
    this.rewatch();
    this.startWaiting();
  }

  /** How many tasks the pool runs at once now. */
  get width(): number {
    return this.allowed;
  }

  /**
   * Runs `task` once the pool may take it; the returned promise settles with the task's.
   * `startedAt` tells when a worker took it up (default: as soon as it is let through).
   */
  run<T>(task: () => Promise<T>, startedAt?: StartProbe): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        const letThrough = Date.now();
        const entry: Running = { startedAt: startedAt ?? (() => letThrough) };
        this.running.add(entry);
        task()
          .then(resolve, reject)
          .finally(() => {
            this.running.delete(entry);
            this.startWaiting();
          });
      };
      if (this.running.size < this.allowed) start();
      else {
        this.waiting.push(start);
        this.watch();
      }
    });
  }

  private startWaiting(): void {
    // The slot is taken synchronously, so a task arriving meanwhile cannot take it too.
    while (this.waiting.length > 0 && this.running.size < this.allowed) this.waiting.shift()!();
    if (this.waiting.length === 0 || this.allowed >= this.max) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Below one worker per core, the short patience applies; above, the long one. */
  private get patience(): number {
    return this.allowed < this.cores ? SHORT_PATIENCE_MS : this.patienceMs;
  }

  /** While tasks wait, checks a few times per patience period whether to open up. */
  private watch(): void {
    if (this.timer || this.allowed >= this.max) return;
    this.timer = setInterval(() => this.widenIfAllLong(), Math.max(MIN_WATCH_MS, this.patience / 4));
  }

  /** The patience changed with the width: the timer's period too. */
  private rewatch(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.waiting.length > 0) this.watch();
  }

  private widenIfAllLong(): void {
    const now = Date.now();
    const patience = this.patience;
    let anyStarted = false;
    for (const task of this.running) {
      const started = task.startedAt();
      if (started === undefined) continue;
      if (now - started < patience) return;
      anyStarted = true;
    }
    if (!anyStarted) return;
    const limit = this.allowed < this.cores ? this.cores : this.max;
    this.allowed = Math.min(limit, Math.max(this.allowed, this.running.size + this.waiting.length));
    this.rewatch();
    this.startWaiting();
  }
}
