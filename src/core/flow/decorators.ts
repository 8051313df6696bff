/**
 * Step and flow decorators (TC39 standard decorators; `experimentalDecorators` must be off).
 * They only record options in the class metadata; the runtime reads them from there.
 */
import { flowOptionsOf, stepsOf, type StepDecorators, type StepRecord } from "./registry.js";

type Method = (this: any, ...args: any[]) => any;
type MethodDecorator = (value: Method, context: ClassMethodDecoratorContext) => void;

function recordFor(context: ClassMethodDecoratorContext): StepRecord {
  if (context.static || context.private || typeof context.name !== "string") {
    throw new TypeError(`flowrun decorators apply to public instance methods, not ${String(context.name)}`);
  }
  const steps = stepsOf(context.metadata as Record<symbol, unknown>);
  let record = steps.get(context.name);
  if (!record) {
    record = { name: context.name, isStep: false, decorators: {} };
    steps.set(context.name, record);
  }
  return record;
}

function stepOption<K extends keyof StepDecorators>(key: K, value: StepDecorators[K]): MethodDecorator {
  return (_method, context) => {
    recordFor(context).decorators[key] = value;
  };
}

/** Marks a method as a step of the flow. */
export function step(_method: Method, context: ClassMethodDecoratorContext): void {
  recordFor(context).isStep = true;
}

/** Says what is wrong with a decorator's options (`times must be ...`) and does not return. */
export type OptionProblem = (problem: string) => never;

const typeError = (decorator: string): OptionProblem => (problem) => {
  throw new TypeError(`@${decorator}: ${problem}`);
};

function checkNumber(key: string, value: number | undefined, ok: (n: number) => boolean, wanted: string, fail: OptionProblem): void {
  if (value !== undefined && !(Number.isFinite(value) && ok(value))) fail(`${key} must be ${wanted}, got ${value}`);
}

/** @retry's options with their defaults, checked (shared with `--with retry:...`). */
export function retryOptions(options: { times?: number; delaySeconds?: number }, fail: OptionProblem): NonNullable<StepDecorators["retry"]> {
  checkNumber("times", options.times, (n) => Number.isInteger(n) && n >= 0, "a whole number ≥ 0", fail);
  checkNumber("delaySeconds", options.delaySeconds, (n) => n >= 0, "a number ≥ 0", fail);
  return { times: options.times ?? 3, delaySeconds: options.delaySeconds ?? 0 };
}

/** @timeout's options as seconds, checked (shared with `--with timeout:...`). */
export function timeoutOptions(options: { seconds?: number; minutes?: number; hours?: number }, fail: OptionProblem): NonNullable<StepDecorators["timeout"]> {
  for (const key of ["seconds", "minutes", "hours"] as const) checkNumber(key, options[key], (n) => n >= 0, "a number ≥ 0", fail);
  const seconds = (options.seconds ?? 0) + (options.minutes ?? 0) * 60 + (options.hours ?? 0) * 3600;
  if (!(seconds > 0)) fail("the timeout must be more than 0 (give seconds, minutes or hours)");
  return { seconds };
}

/** @resources' options, checked (shared with `--with resources:...`). */
export function resourcesOptions(options: { cpu?: number; memory?: number }, fail: OptionProblem): NonNullable<StepDecorators["resources"]> {
  checkNumber("cpu", options.cpu, (n) => n > 0, "a number > 0", fail);
  checkNumber("memory", options.memory, (n) => n > 0, "a number of MB > 0", fail);
  return { cpu: options.cpu, memory: options.memory };
}

/** Re-runs a failed task up to `times` more times, waiting `delaySeconds` between attempts. */
export function retry(options: { times?: number; delaySeconds?: number } = {}): MethodDecorator {
  return stepOption("retry", retryOptions(options, typeError("retry")));
}

/**
 * What `@catchError({ var })` stores in `var` when the step's last attempt failed (Metaflow's
 * exception wrapper: type, message, stack trace), plus where it happened.
 */
export interface CaughtError {
  /** The error's type: `error.name`, e.g. "TypeError". */
  name: string;
  message: string;
  stack: string | null;
  /** `file:line` in the flow file where the step failed, when its stack shows it. */
  source: string | null;
  /** The task that failed, and on which attempt (`current.retryCount`). */
  pathspec: string;
  attempt: number;
}

/**
 * On the step's last attempt, a failure is stored in the artifact `var` (if given, as a
 * `CaughtError`) and the task succeeds: the run goes on and `task.exception` stays undefined.
 */
export function catchError(options: { var?: string; printException?: boolean } = {}): MethodDecorator {
  return stepOption("catchError", { var: options.var, printException: options.printException ?? true });
}

/** Fails the task (the worker is stopped) when it runs longer than the given time. */
export function timeout(options: { seconds?: number; minutes?: number; hours?: number }): MethodDecorator {
  return stepOption("timeout", timeoutOptions(options, typeError("timeout")));
}

/** Resources for the step's workers; `memory` (MB) is enforced as the worker's heap limit. */
export function resources(options: { cpu?: number; memory?: number }): MethodDecorator {
  return stepOption("resources", resourcesOptions(options, typeError("resources")));
}

/** Environment variables set while the step's tasks run. */
export function environment(options: { vars: Record<string, string> }): MethodDecorator {
  return stepOption("environment", { vars: { ...options.vars } });
}

/** Runs every task of the step in a fresh worker (no module state shared between tasks). */
export function isolate(_method: Method, context: ClassMethodDecoratorContext): void {
  recordFor(context).decorators.isolate = true;
}

/**
 * Runs the step's tasks on the machines serving a task queue (`flowrun worker`), as
 * Metaflow's `@batch` does: other steps still run where the run started. `queue` names the
 * queue (default: the run's `--queue`, else `flowrun`); the run needs the S3 datastore.
 */
export function remote(options: { queue?: string } = {}): MethodDecorator {
  if (options.queue !== undefined && !QUEUE_NAME.test(options.queue)) throw new TypeError(`@remote: queue "${options.queue}" may only hold letters, digits, '_', '.', '-'`);
  return stepOption("remote", { queue: options.queue });
}

/**
 * Gives every task of the step a card (`flowrun card view`, `flowrun ui`): what the step
 * appends to `current.card`, then (type `default`) the task's artifacts. Without `@card` a
 * step's appended components still make a card, of type `blank`.
 */
export function card(options: { type?: "default" | "blank" } = {}): MethodDecorator {
  return stepOption("card", cardOptions(options, typeError("card")));
}

/** @card's options, checked (shared with `--with card:...`). */
export function cardOptions(options: { type?: unknown }, fail: OptionProblem): NonNullable<StepDecorators["card"]> {
  const type = options.type ?? "default";
  if (type !== "default" && type !== "blank") fail(`type must be "default" or "blank", got ${JSON.stringify(type)}`);
  return { type };
}

/** What a queue may be called (a part of Redis keys). */
export const QUEUE_NAME = /^[a-z0-9_][a-z0-9_.-]{0,63}$/i;

/**
 * npm packages for a step (or, on the class, for every step): bare imports inside the step
 * resolve to an environment built with exactly these version ranges.
 */
export function dependencies(options: { packages: Record<string, string> }) {
  return (_target: unknown, context: ClassMethodDecoratorContext | ClassDecoratorContext): void => {
    const packages = { ...options.packages };
    if (context.kind === "class") flowOptionsOf(context.metadata as Record<symbol, unknown>).dependencies = { packages };
    else recordFor(context as ClassMethodDecoratorContext).decorators.dependencies = { packages };
  };
}

/** Groups the flow's runs into a project namespace with branches (`user.<name>`, `test.<b>`, `prod`). */
export function project(options: { name: string }) {
  if (!/^[a-z0-9_][a-z0-9_.-]*$/i.test(options.name)) {
    throw new TypeError(`@project name "${options.name}" may only hold letters, digits, '_', '.', '-'`);
  }
  return (_target: unknown, context: ClassDecoratorContext): void => {
    flowOptionsOf(context.metadata as Record<symbol, unknown>).project = { name: options.name };
  };
}
