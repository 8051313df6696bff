/**
 * Runs inside a worker thread: records every process a task starts through
 * `node:child_process` in the task's TaskProcessTable, so the main thread can end those still
 * running when the task is over. Worker threads share the CLI's process, so a child's parent
 * is the CLI whichever task started it: the only place that knows the task is the call.
 *
 * spawn, exec, execFile and fork are replaced on the module object, and
 * `syncBuiltinESMExports()` makes `import { spawn } from "node:child_process"` see the
 * replacements. The synchronous forms (spawnSync, execSync, ...) are left alone: they block
 * the task until their process exits.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import childProcess from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { promisify } from "node:util";
import { TaskFailedError } from "../../src/core/errors.js";
import { MAX_TASK_PROCESSES, type TaskProcessTable } from "../task-process-table.js";

const LAUNCHERS = ["spawn", "exec", "execFile", "fork"] as const;

const context = new AsyncLocalStorage<TaskProcessTable>();
/** exec goes through the exported execFile: each child is recorded once. */
const recorded = new WeakSet<ChildProcess>();

type Launcher = ((...args: unknown[]) => ChildProcess) & { [promisify.custom]?: (...args: unknown[]) => Promise<unknown> & { child: ChildProcess } };

export function installChildProcessTracking(): void {
  const exports = childProcess as unknown as Record<string, Launcher>;
  for (const name of LAUNCHERS) {
    const launch = exports[name]!;
    const tracked: Launcher = function (this: unknown, ...args: unknown[]) {
      return record(launch.apply(this, args), args);
    };
    Object.defineProperty(tracked, "name", { value: name });
    // exec and execFile have their own promisified form ({ stdout, stderr }); keep it, tracked.
    const promisified = launch[promisify.custom];
    if (promisified) {
      tracked[promisify.custom] = (...args: unknown[]) => {
        const promise = promisified(...args);
        record(promise.child, args);
        return promise;
      };
    }
    exports[name] = tracked;
  }
  syncBuiltinESMExports();
}

/** Runs `fn` with every process it (and what it schedules) starts recorded in `table`. */
export function runWithChildTracking<T>(table: TaskProcessTable, fn: () => Promise<T>): Promise<T> {
  return context.run(table, fn);
}

function record(child: ChildProcess, args: unknown[]): ChildProcess {
  const table = context.getStore();
  const pid = child.pid;
  if (!table || pid === undefined || recorded.has(child)) return child;
  recorded.add(child);
  const outcome = table.add({ pid, group: args.some(isDetached) });
  if (outcome !== "added") {
    child.kill("SIGKILL");
    if (outcome === "full") {
      throw new TaskFailedError(`the task started more than ${MAX_TASK_PROCESSES} processes running at once`, {
        hint: "wait for processes to finish before starting more",
      });
    }
    return child;
  }
  child.once("exit", () => table.remove(pid));
  return child;
}

function isDetached(arg: unknown): boolean {
  return typeof arg === "object" && arg !== null && (arg as { detached?: unknown }).detached === true;
}
