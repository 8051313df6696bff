/**
 * What a user sees while a run goes: task start/finish lines and the tasks' own output,
 * each prefixed `[Flow/run/step/task]`; a foreach's progress (a live line on a terminal,
 * a line every 10% otherwise, instead of thousands of start/finish lines); retries and
 * failures; tasks running longer than `config.slowTaskSeconds()` (see slow-tasks.ts).
 * `--quiet` keeps only errors.
 */
import type { StepNode } from "../../src/graph/types.js";
import type { LogStream } from "../metadata/metadata-store.js";
import type { LogDisplay } from "./log-sink.js";
import { SlowTaskWatch, type SlowTask } from "./slow-tasks.js";
import { config } from "../../src/config.js";
import type { PendingTask } from "./task-scheduler.js";

/** Foreaches with more splits than this show progress instead of per-split lines. */
const PER_SPLIT_LINES_UP_TO = 20;

export interface ProgressReporter extends LogDisplay {
  taskStarted(pathspec: string, task: PendingTask, node: StepNode): void;
  taskFinished(pathspec: string, task: PendingTask, node: StepNode, durationMs: number, splits?: number): void;
  taskCloned(pathspec: string, task: PendingTask, from: string): void;
  taskRetrying(pathspec: string, attempt: number, of: number, error: Error): void;
  taskFailed(pathspec: string, error: Error): void;
  info(text: string): void;
}

const dim = (s: string, color: boolean) => (color ? `\x1b[2m${s}\x1b[0m` : s);
const red = (s: string, color: boolean) => (color ? `\x1b[31m${s}\x1b[0m` : s);
const yellow = (s: string, color: boolean) => (color ? `\x1b[33m${s}\x1b[0m` : s);

export class ConsoleReporter implements ProgressReporter {
  private readonly tty: boolean;
  private readonly foreach = new Map<string, { done: number; total: number; shown: number }>();
  private liveLine = "";
  private readonly slow: SlowTaskWatch | undefined;

  constructor(private readonly quiet: boolean, private readonly out: NodeJS.WriteStream = process.stdout, slowTaskMs = config.slowTaskSeconds() * 1000) {
    this.tty = out.isTTY === true;
    this.slow = quiet ? undefined : new SlowTaskWatch(slowTaskMs, this.tty ? "steady" : "doubling", (task) => this.slowTask(task));
  }

  private write(text: string): void {
    if (this.liveLine) this.out.write("\r\x1b[2K");
    this.out.write(`${text}\n`);
    if (this.liveLine) this.out.write(this.liveLine);
  }

  private perSplitLines(task: PendingTask): boolean {
    const frame = task.stack.at(-1);
    return frame?.kind !== "foreach" || frame.count <= PER_SPLIT_LINES_UP_TO;
  }

  taskStarted(pathspec: string, task: PendingTask, _node: StepNode): void {
    this.slow?.started(pathspec);
    if (this.quiet || !this.perSplitLines(task)) return;
    this.write(`[${pathspec}] ${dim(task.attempt > 0 ? `Task is starting (retry ${task.attempt}).` : "Task is starting.", this.tty)}`);
  }

  taskFinished(pathspec: string, task: PendingTask, _node: StepNode, durationMs: number, splits?: number): void {
    this.slow?.ended(pathspec);
    if (this.quiet) return;
    if (this.perSplitLines(task)) {
      const fanout = splits !== undefined ? `, foreach: ${splits} splits` : "";
      this.write(`[${pathspec}] ${dim(`Task finished successfully (${formatDuration(durationMs)}${fanout}).`, this.tty)}`);
      return;
    }
    const frame = task.stack.at(-1)!;
    const stepPath = pathspec.slice(0, pathspec.lastIndexOf("/"));
    const key = `${stepPath}\0${frame.split}`;
    const state = this.foreach.get(key) ?? { done: 0, total: frame.count, shown: 0 };
    state.done++;
    this.foreach.set(key, state);
    const line = `[${stepPath}] foreach ${state.done}/${state.total} splits done`;
    if (this.tty) {
      this.liveLine = state.done === state.total ? "" : line;
      this.out.write(`\r\x1b[2K${state.done === state.total ? `${line}\n` : line}`);
    } else if (state.done === state.total || Math.floor((state.done * 10) / state.total) > state.shown) {
      state.shown = Math.floor((state.done * 10) / state.total);
      this.write(line);
    }
    if (state.done === state.total) this.foreach.delete(key);
  }

  taskCloned(pathspec: string, task: PendingTask, from: string): void {
    if (!this.quiet && this.perSplitLines(task)) this.write(`[${pathspec}] ${dim(`Cloned from ${from}.`, this.tty)}`);
  }

  taskRetrying(pathspec: string, attempt: number, of: number, error: Error): void {
    this.slow?.ended(pathspec);
    if (!this.quiet) this.write(`[${pathspec}] ${red(`failed: ${error.message}`, this.tty)} — retrying (${attempt}/${of})`);
  }

  taskFailed(pathspec: string, error: Error): void {
    this.slow?.ended(pathspec);
    process.stderr.write(`[${pathspec}] ${red(`Task failed: ${error.message}`, process.stderr.isTTY === true)}\n`);
  }

  line(pathspec: string, stream: LogStream, text: string): void {
    this.slow?.output(pathspec);
    if (stream === "stderr") process.stderr.write(`[${pathspec}] ${red(text, process.stderr.isTTY === true)}\n`);
    else if (!this.quiet) this.write(`[${pathspec}] ${text}`);
  }

  info(text: string): void {
    if (!this.quiet) this.write(text);
  }

  private slowTask({ pathspec, elapsedMs, silentMs }: SlowTask): void {
    const output = silentMs === undefined ? "no output yet" : `last output ${formatDuration(silentMs)} ago`;
    this.write(`[${pathspec}] ${yellow(`still running after ${formatDuration(elapsedMs)}; ${output}`, this.tty)}`);
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
