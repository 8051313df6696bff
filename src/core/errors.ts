/**
 * Every failure flowrun reports is a `FlowrunError`: a stable `code` that tests and
 * scripts can match, the place it concerns (`where`: a pathspec or `file:line`), a one-line
 * `hint` saying what to do next, and the underlying `cause`.
 *
 * Errors cross the worker-thread boundary as plain objects (piscina drops subclass names
 * and custom fields), so `serializeError` / `rehydrateError` carry them, and `instanceof`
 * is answered from a brand on the object rather than the prototype chain: an error made by
 * another copy of this module (a step's own dependency environment) still matches.
 */

import { inspect } from "node:util";

const BRAND = Symbol.for("flowrun.error");

export interface FlowrunErrorOptions {
  where?: string;
  hint?: string;
  cause?: unknown;
}

export interface SerializedError {
  name: string;
  code?: string;
  message: string;
  where?: string;
  hint?: string;
  stack?: string;
  /** The error's `cause`, serialised the same way (a chain of at most MAX_CAUSES). */
  cause?: SerializedError;
}

const MAX_CAUSES = 8;

export class FlowrunError extends Error {
  /** Stable identifier, e.g. `FLOWRUN_ERR_USAGE`. */
  readonly code: string = "FLOWRUN_ERR";
  /** The pathspec (`Flow/run/step/task`) or source location (`file:line`) concerned. */
  readonly where?: string;
  /** What the user should do next, in one line. */
  readonly hint?: string;
  /** Exit code the CLI uses when this error ends a command. */
  get exitCode(): number {
    return 1;
  }

  constructor(message: string, options: FlowrunErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.where = options.where;
    this.hint = options.hint;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== "object" || value === null) return false;
    if (this === FlowrunError) return (value as Record<symbol, unknown>)[BRAND] === true;
    return Function.prototype[Symbol.hasInstance].call(this, value) ||
      ((value as Record<symbol, unknown>)[BRAND] === true && (value as Error).name === this.name);
  }

  /** `where: message [code]`, then the hint on a second line: the way the CLI prints it. */
  oneLine(): string {
    const head = `${this.where ? `${this.where}: ${this.message}` : this.message} [${this.code}]`;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

/** A bad command line: unknown option, bad value, missing argument. Exit code 2. */
export class UsageError extends FlowrunError {
  override readonly code: string = "FLOWRUN_ERR_USAGE";
  override get exitCode() {
    return 2;
  }
}

/** The flow file cannot be used: syntax error, invalid graph, no FlowSpec class. Exit code 2. */
export class FlowDefinitionError extends FlowrunError {
  override readonly code: string = "FLOWRUN_ERR_FLOW_INVALID";
  override get exitCode() {
    return 2;
  }
}

/** A parameter value is missing, unknown or of the wrong type. Exit code 2. */
export class ParameterError extends UsageError {
  override readonly code = "FLOWRUN_ERR_PARAMETER";
}

/** A step assigned an artifact that is not plain data; artifacts conflict in a join, or `mergeArtifacts` is misused. */
export class ArtifactError extends FlowrunError {
  override readonly code = "FLOWRUN_ERR_ARTIFACT";
}

/** The task's actual `this.next(...)` call, or its foreach/switch value, disagrees with the graph. */
export class TransitionError extends FlowrunError {
  override readonly code = "FLOWRUN_ERR_TRANSITION";
}

/** A tag that cannot be added or removed: a system tag (`user:`, `project:`, ...), empty, too long, not valid Unicode. Exit code 2. */
export class TagError extends UsageError {
  override readonly code = "FLOWRUN_ERR_TAG";
}

/** A flow, run, step, task or artifact that the user asked for does not exist. */
export class NotFoundError extends FlowrunError {
  override readonly code = "FLOWRUN_ERR_NOT_FOUND";
  override get exitCode() {
    return 2;
  }
}

/** The datastore cannot be opened, read or written (permissions, corruption, network). */
export class DatastoreError extends FlowrunError {
  override readonly code: string = "FLOWRUN_ERR_DATASTORE";
  override get exitCode() {
    return 2;
  }
}

/**
 * The datastore refused a write: disk full, I/O error, read-only, over quota, or an S3
 * write that failed after its retries. The message names the datastore, what was being
 * written and how big. Exit code 2 on its own; inside a run it fails the run (exit 1).
 */
export class DatastoreWriteError extends DatastoreError {
  override readonly code = "FLOWRUN_ERR_DATASTORE_WRITE";
}

/**
 * A step's dependency environment cannot be built: a package or version that does not
 * exist, an unreachable registry, a failing install script, a cache directory that cannot
 * be written. Thrown by `ensureEnvironment` before any task of the step runs; `where`
 * names the step when the caller passed a `label`. The message is npm's own reason
 * shortened to one line; the whole npm output is kept in `cause` for `--debug`.
 * Exit code 2: nothing ran, the flow's declaration (or the machine) needs fixing.
 */
export class EnvironmentError extends FlowrunError {
  override readonly code = "FLOWRUN_ERR_ENVIRONMENT";
  override get exitCode() {
    return 2;
  }
}

/**
 * The task queue of remote steps (`--with remote`, `@remote`, `flowrun worker`) cannot be
 * used: Redis unreachable or lost, a bad `--redis` URL, a local datastore with remote steps.
 * Exit code 2 before a run starts; a queue lost mid-run fails the run (exit 1, resume it).
 */
export class RemoteQueueError extends FlowrunError {
  override readonly code = "FLOWRUN_ERR_QUEUE";
  override get exitCode() {
    return 2;
  }
}

/** A task failed: thrown by the step, worker exit, memory limit, timeout. */
export class TaskFailedError extends FlowrunError {
  override readonly code = "FLOWRUN_ERR_TASK_FAILED";
}

const KNOWN: Record<string, new (message: string, options?: FlowrunErrorOptions) => FlowrunError> = {
  FlowrunError,
  UsageError,
  FlowDefinitionError,
  ParameterError,
  ArtifactError,
  TransitionError,
  NotFoundError,
  DatastoreError,
  DatastoreWriteError,
  TaskFailedError,
  TagError,
  EnvironmentError,
  RemoteQueueError,
};

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; where?: string; hint?: string };
    return {
      name: e.name,
      code: typeof e.code === "string" ? e.code : undefined,
      message: e.message,
      where: e.where,
      hint: e.hint,
      stack: e.stack,
      cause: e.cause === undefined || depth >= MAX_CAUSES ? undefined : serializeError(e.cause, depth + 1),
    };
  }
  return { name: "Error", message: describeThrown(error) };
}

/** Rebuilds an error serialised on the other side of a thread or process boundary. */
export function rehydrateError(data: SerializedError): Error {
  const Known = KNOWN[data.name];
  const cause = data.cause && rehydrateError(data.cause);
  const error: Error = Known
    ? new Known(data.message, { where: data.where, hint: data.hint, cause })
    : Object.assign(new Error(data.message, cause === undefined ? undefined : { cause }), { name: data.name, code: data.code });
  if (data.stack) error.stack = data.stack;
  return error;
}

function describeThrown(value: unknown): string {
  if (typeof value === "string") return value;
  // inspect, not JSON: it shows symbols, undefined, functions and cycles, on one line, and does not throw.
  return `non-Error value thrown: ${inspect(value, { depth: 2, breakLength: Infinity })}`;
}
