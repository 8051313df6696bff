/**
 * Captures a task's stdout/stderr inside a worker thread. `console.*` in a worker writes
 * through `process.stdout`/`process.stderr`, so patching their `write` catches both. Output
 * is attributed with AsyncLocalStorage, not "the task running now": a timer a previous task
 * left behind still logs under that task's name.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { BroadcastChannel } from "node:worker_threads";
import type { LogMessage } from "../protocol.js";

export interface TaskLogContext {
  pathspec: string;
  attempt: number;
  messages: number;
}

const context = new AsyncLocalStorage<TaskLogContext>();
let channel: BroadcastChannel | undefined;

export function installLogCapture(channelName: string): void {
  channel = new BroadcastChannel(channelName);
  channel.unref();
  for (const stream of ["stdout", "stderr"] as const) {
    const target = process[stream];
    const original = target.write.bind(target);
    target.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const task = context.getStore();
      if (!task || !channel) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      const message: LogMessage = { pathspec: task.pathspec, attempt: task.attempt, stream, text };
      channel.postMessage(message);
      task.messages++;
      const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof target.write;
  }
}

export function newTaskLogContext(pathspec: string, attempt: number): TaskLogContext {
  return { pathspec, attempt, messages: 0 };
}

/** Runs `fn` with everything it (and what it schedules) prints attributed to the task. */
export function runWithTaskLogs<T>(task: TaskLogContext, fn: () => Promise<T>): Promise<T> {
  return context.run(task, fn);
}

/** Publishes text under the task's name (used for failures the runtime reports itself). */
export function publishTaskLog(task: TaskLogContext, stream: "stdout" | "stderr", text: string): void {
  channel?.postMessage({ pathspec: task.pathspec, attempt: task.attempt, stream, text } satisfies LogMessage);
  task.messages++;
}
