/**
 * Where decorators record what they know about a flow class, and the per-task state the
 * runtime shares with the flow's code.
 *
 * Everything is keyed by `Symbol.for(...)`, never by module identity: a flow may load a
 * second copy of flowrun (a step's own dependency environment, a linked checkout), and the
 * copies must still agree on which class is a FlowSpec and what `current` says.
 */

// Node 20 has no Symbol.metadata; esbuild (tsx) and tsc emit `Symbol.metadata ?? Symbol.for("Symbol.metadata")`.
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for("Symbol.metadata");

export const STEPS_KEY = Symbol.for("flowrun.steps");
export const FLOW_OPTIONS_KEY = Symbol.for("flowrun.flowOptions");
export const FLOWSPEC_BRAND = Symbol.for("flowrun.FlowSpec");
export const TASK_STATE = Symbol.for("flowrun.taskState");
export const PARAMETER_BRAND = Symbol.for("flowrun.Parameter");

/** Step-level options gathered from decorators, by decorator name. */
export interface StepDecorators {
  retry?: { times: number; delaySeconds: number };
  catchError?: { var?: string; printException: boolean };
  timeout?: { seconds: number };
  resources?: { cpu?: number; memory?: number };
  environment?: { vars: Record<string, string> };
  isolate?: boolean;
  dependencies?: { packages: Record<string, string> };
  /** Runs the step's tasks on the workers of a task queue (`flowrun worker`) instead of in this process. */
  remote?: { queue?: string };
  /** The task's card also lists its artifacts (`default`); `blank` shows only what the step appends. */
  card?: { type: "default" | "blank" };
}

export interface StepRecord {
  name: string;
  /** Set by `@step`; other decorators on a method without it are an error at load time. */
  isStep: boolean;
  decorators: StepDecorators;
}

/** Flow-level options from class decorators. */
export interface FlowOptions {
  project?: { name: string };
  dependencies?: { packages: Record<string, string> };
}

type Metadata = Record<symbol, unknown>;

export function stepsOf(metadata: Metadata): Map<string, StepRecord> {
  // Metadata objects inherit from the parent class's; give each class its own map.
  if (!Object.prototype.hasOwnProperty.call(metadata, STEPS_KEY)) {
    const inherited = metadata[STEPS_KEY] as Map<string, StepRecord> | undefined;
    metadata[STEPS_KEY] = new Map(inherited);
  }
  return metadata[STEPS_KEY] as Map<string, StepRecord>;
}

export function flowOptionsOf(metadata: Metadata): FlowOptions {
  if (!Object.prototype.hasOwnProperty.call(metadata, FLOW_OPTIONS_KEY)) {
    metadata[FLOW_OPTIONS_KEY] = { ...(metadata[FLOW_OPTIONS_KEY] as FlowOptions | undefined) };
  }
  return metadata[FLOW_OPTIONS_KEY] as FlowOptions;
}

/** The metadata of a decorated flow class (empty when it has none). */
export function classMetadata(flowClass: Function): Metadata {
  return ((flowClass as unknown as Record<symbol, unknown>)[Symbol.metadata!] as Metadata | undefined) ?? {};
}
