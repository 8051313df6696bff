/**
 * What the scheduler reports while a run goes, to whoever shows it (the CLI's console
 * display; a web UI could subscribe the same way): plain data, no scheduler internals.
 */
import type { LogDisplay } from "./log-sink.js";

/** Where a task sits in its innermost foreach, when it is inside one. */
export interface SplitPosition {
  /** `step/taskId` of the task that split: one foreach. */
  split: string;
  /** How many splits that foreach has. */
  count: number;
}

export type TaskEvent =
  | { kind: "started"; pathspec: string; attempt: number; split?: SplitPosition }
  | { kind: "finished"; pathspec: string; attempt: number; durationMs: number; split?: SplitPosition; /** foreach steps: the splits made */ splits?: number }
  | { kind: "cloned"; pathspec: string; from: string; split?: SplitPosition }
  | { kind: "retrying"; pathspec: string; attempt: number; of: number; error: Error }
  | { kind: "failed"; pathspec: string; error: Error };

export interface RunObserver extends LogDisplay {
  task(event: TaskEvent): void;
  /** A line about the run itself (an environment being built). */
  info(text: string): void;
}
