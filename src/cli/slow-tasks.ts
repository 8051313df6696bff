/**
 * Notices tasks that have run longer than a threshold, so a step stuck on a promise that never
 * settles does not leave the display silent for minutes. It only keeps time; the display says
 * what a notice looks like. On a terminal a slow task is named every threshold while it runs;
 * elsewhere (a log file, CI) at growing intervals, after 1, 2, 4, 8... thresholds, so a
 * day-long step adds a dozen lines, not a thousand.
 */
export interface SlowTask {
  pathspec: string;
  elapsedMs: number;
  /** Since its last line of output; undefined when it has printed none. */
  silentMs?: number;
}

interface Running {
  startedAt: number;
  lastOutputAt?: number;
  /** Notices due so far (shown or skipped while the process was too busy to check). */
  notices: number;
}

export class SlowTaskWatch {
  private readonly running = new Map<string, Running>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly thresholdMs: number,
    private readonly repeat: "steady" | "doubling",
    private readonly notice: (task: SlowTask) => void,
  ) {}

  started(pathspec: string): void {
    this.running.set(pathspec, { startedAt: performance.now(), notices: 0 });
    // Unref'd: a run never waits on its progress display.
    this.timer ??= setInterval(() => this.check(), Math.min(1000, this.thresholdMs / 2)).unref();
  }

  output(pathspec: string): void {
    const task = this.running.get(pathspec);
    if (task) task.lastOutputAt = performance.now();
  }

  ended(pathspec: string): void {
    this.running.delete(pathspec);
    if (this.running.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = performance.now();
    for (const [pathspec, task] of this.running) {
      const elapsedMs = now - task.startedAt;
      const due = this.noticesDue(elapsedMs);
      if (due <= task.notices) continue;
      task.notices = due;
      this.notice({ pathspec, elapsedMs, silentMs: task.lastOutputAt === undefined ? undefined : now - task.lastOutputAt });
    }
  }

  /** How many notices a task running this long has had due: steady 1, 2, 3...; doubling at 1, 2, 4, 8... thresholds. */
  private noticesDue(elapsedMs: number): number {
    const thresholds = elapsedMs / this.thresholdMs;
    if (thresholds < 1) return 0;
    return this.repeat === "steady" ? Math.floor(thresholds) : Math.floor(Math.log2(thresholds)) + 1;
  }
}
