/**
 * What a user sees while a run goes: task start/finish lines and the tasks' own output,
 * each prefixed `[Flow/run/step/task]`; a foreach's progress (a live line on a terminal,
 * a line every 10% otherwise, instead of thousands of start/finish lines); retries and
 * failures; tasks running longer than `config.slowTaskSeconds()` (see slow-tasks.ts).
 * `--quiet` keeps only errors.
 */
import { styleText } from "node:util";
import { config } from "../core/config.js";
import { formatDuration } from "../core/format-duration.js";
import type { LogStream } from "../../runtime/metadata/metadata-store.js";
import type { RunObserver, SplitPosition, TaskEvent } from "../../runtime/scheduler/task-events.js";
import { SlowTaskWatch, type SlowTask } from "./slow-tasks.js";

/** Foreaches with more splits than this show progress instead of per-split lines. */
const PER_SPLIT_LINES_UP_TO = 20;

type Style = "dim" | "red" | "yellow";

/** Colours only on a terminal that has them (`hasColors` honours NO_COLOR, FORCE_COLOR and TERM). */
function painter(stream: NodeJS.WriteStream): (style: Style, text: string) => string {
  const color = stream.isTTY === true && stream.hasColors?.() === true;
  return (style, text) => (color ? styleText(style, text) : text);
}

export class ConsoleDisplay implements RunObserver {
  private readonly tty: boolean;
  private readonly paint: (style: Style, text: string) => string;
  private readonly paintErr = painter(process.stderr);
  private readonly foreach = new Map<string, { done: number; total: number; shown: number }>();
  private liveLine = "";
  private readonly slow: SlowTaskWatch | undefined;

  constructor(private readonly quiet: boolean, private readonly out: NodeJS.WriteStream = process.stdout, slowTaskMs = config.slowTaskSeconds() * 1000) {
    this.tty = out.isTTY === true;
    this.paint = painter(out);
    this.slow = quiet ? undefined : new SlowTaskWatch(slowTaskMs, this.tty ? "steady" : "doubling", (task) => this.slowTask(task));
  }

  private write(text: string): void {
    if (this.liveLine) this.out.write("\r\x1b[2K");
    this.out.write(`${text}\n`);
    if (this.liveLine) this.out.write(this.liveLine);
  }

  private perSplitLines(split: SplitPosition | undefined): boolean {
    return split === undefined || split.count <= PER_SPLIT_LINES_UP_TO;
  }

  task(event: TaskEvent): void {
    switch (event.kind) {
      case "started":
        this.slow?.started(event.pathspec);
        if (this.quiet || !this.perSplitLines(event.split)) return;
        this.write(`[${event.pathspec}] ${this.paint("dim", event.attempt > 0 ? `Task is starting (retry ${event.attempt}).` : "Task is starting.")}`);
        return;
      case "finished":
        this.slow?.ended(event.pathspec);
        if (!this.quiet) this.finished(event.pathspec, event.durationMs, event.split, event.splits);
        return;
      case "cloned":
        if (!this.quiet && this.perSplitLines(event.split)) this.write(`[${event.pathspec}] ${this.paint("dim", `Cloned from ${event.from}.`)}`);
        return;
      case "retrying":
        this.slow?.ended(event.pathspec);
        if (!this.quiet) this.write(`[${event.pathspec}] ${this.paint("red", `failed: ${event.error.message}`)} — retrying (${event.attempt}/${event.of})`);
        return;
      case "failed":
        this.slow?.ended(event.pathspec);
        process.stderr.write(`[${event.pathspec}] ${this.paintErr("red", `Task failed: ${event.error.message}`)}\n`);
        return;
    }
  }

  private finished(pathspec: string, durationMs: number, split: SplitPosition | undefined, splits: number | undefined): void {
    if (this.perSplitLines(split)) {
      const fanout = splits !== undefined ? `, foreach: ${splits} splits` : "";
      this.write(`[${pathspec}] ${this.paint("dim", `Task finished successfully (${formatDuration(durationMs)}${fanout}).`)}`);
      return;
    }
    const stepPath = pathspec.slice(0, pathspec.lastIndexOf("/"));
    const key = `${stepPath}\0${split!.split}`;
    const state = this.foreach.get(key) ?? { done: 0, total: split!.count, shown: 0 };
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

  line(pathspec: string, stream: LogStream, text: string): void {
    this.slow?.output(pathspec);
    if (stream === "stderr") process.stderr.write(`[${pathspec}] ${this.paintErr("red", text)}\n`);
    else if (!this.quiet) this.write(`[${pathspec}] ${text}`);
  }

  info(text: string): void {
    if (!this.quiet) this.write(text);
  }

  private slowTask({ pathspec, elapsedMs, silentMs }: SlowTask): void {
    const output = silentMs === undefined ? "no output yet" : `last output ${formatDuration(silentMs)} ago`;
    this.write(`[${pathspec}] ${this.paint("yellow", `still running after ${formatDuration(elapsedMs)}; ${output}`)}`);
  }
}

