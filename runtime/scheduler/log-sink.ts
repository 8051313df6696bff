/**
 * Receives task output from the workers (a BroadcastChannel), shows it live prefixed with
 * the task's pathspec, and stores it as it arrives (flushed every LOG_FLUSH_MS), so
 * `flowrun logs` shows a running task's output and a crashed worker loses at most that much.
 */
import { BroadcastChannel } from "node:worker_threads";
import type { MetadataStore, LogStream } from "../metadata/metadata-store.js";
import type { LogMessage } from "../protocol.js";

const LOG_FLUSH_MS = 200;

interface TaskLog {
  logKey: string;
  seq: number;
  received: number;
  /** Incomplete last line per stream, kept until its newline arrives (display only). */
  partial: Record<LogStream, string>;
  waiter?: { count: number; resolve: () => void };
}

export interface LogDisplay {
  line(pathspec: string, stream: LogStream, text: string): void;
}

export class LogSink {
  private readonly channel: BroadcastChannel;
  private readonly tasks = new Map<string, TaskLog>();
  private pending: Array<{ logKey: string; stream: LogStream; seq: number; text: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  /** A store of output that failed, reported by the next `drain` (the flush timer has no caller to tell). */
  private failure: unknown;

  constructor(
    readonly channelName: string,
    private readonly metadata: MetadataStore,
    private readonly display: LogDisplay,
  ) {
    this.channel = new BroadcastChannel(channelName);
    this.channel.onmessage = (event) => this.receive((event as { data: LogMessage }).data);
  }

  /** Starts collecting a task attempt's output under `logKey`. */
  open(pathspec: string, attempt: number, logKey: string): void {
    this.tasks.set(`${pathspec}#${attempt}`, { logKey, seq: 0, received: 0, partial: { stdout: "", stderr: "" } });
  }

  /**
   * Resolves once `count` messages of the attempt have arrived (the worker said how many it
   * sent) and are stored; throws if storing any output since the last drain failed.
   * `epilogue` is stored after the task's own output but not shown: a failed attempt's error,
   * which the run's progress already reports in its own words.
   */
  async drain(pathspec: string, attempt: number, count: number, epilogue?: { stream: LogStream; text: string }): Promise<void> {
    const task = this.tasks.get(`${pathspec}#${attempt}`);
    if (task && task.received < count) {
      await new Promise<void>((resolve) => {
        task.waiter = { count, resolve };
        // A message lost with a dead worker must not hang the run.
        setTimeout(resolve, 2000).unref();
      });
    }
    if (task) {
      for (const stream of ["stdout", "stderr"] as const) {
        if (task.partial[stream]) this.display.line(pathspec, stream, task.partial[stream]);
      }
      if (epilogue) {
        // A last line the task left without its newline must not run into the epilogue.
        const text = task.partial[epilogue.stream] ? `\n${epilogue.text}` : epilogue.text;
        this.pending.push({ logKey: task.logKey, stream: epilogue.stream, seq: task.seq++, text });
      }
    }
    this.tasks.delete(`${pathspec}#${attempt}`);
    await this.flush();
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  /** Stores a line the runtime itself reports for a task (e.g. why its worker died). */
  note(pathspec: string, attempt: number, stream: LogStream, text: string): void {
    this.receive({ pathspec, attempt, stream, text });
  }

  /** Stores what arrived so far; never throws (a failure is kept for `drain`). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.metadata.appendLogs(batch);
    } catch (error) {
      this.failure ??= error;
    }
  }

  async close(): Promise<void> {
    this.channel.close();
    await this.flush();
  }

  private receive(message: LogMessage): void {
    const task = this.tasks.get(`${message.pathspec}#${message.attempt}`);
    if (!task) return;
    task.received++;
    this.pending.push({ logKey: task.logKey, stream: message.stream, seq: task.seq++, text: message.text });
    this.timer ??= setTimeout(() => void this.flush(), LOG_FLUSH_MS);
    const lines = (task.partial[message.stream] + message.text).split("\n");
    task.partial[message.stream] = lines.pop()!;
    for (const line of lines) this.display.line(message.pathspec, message.stream, line);
    if (task.waiter && task.received >= task.waiter.count) task.waiter.resolve();
  }
}
