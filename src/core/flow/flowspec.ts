/**
 * `FlowSpec`: the base class of every flow. A flow's steps are its `@step` methods; the
 * runtime creates one instance per task, fills it with the task's input artifacts (loaded
 * lazily), calls the step, and persists the own enumerable fields the step leaves behind.
 */
import { ArtifactError, TransitionError } from "../errors.js";
import { FLOWSPEC_BRAND } from "./registry.js";

const TASK = Symbol.for("flowrun.task");
/** On each element of a join's `inputs`: the artifacts of the task it stands for. */
export const INPUT_ARTIFACTS = Symbol.for("flowrun.inputArtifacts");

type StepFn = (...args: any[]) => unknown;

/** The transition a step asked for, by step names. */
export interface NextCall {
  targets: string[];
  foreach?: string;
  condition?: string;
  /** switch: case value -> step name. */
  cases?: Record<string, string>;
}

/** One foreach a task is inside, as `this.foreachStack()` lists it. */
export interface ForeachContext {
  /** The step that split. */
  readonly step: string;
  readonly index: number;
  readonly numSplits: number;
  /** The element this task handles, read from the datastore when first asked for. */
  readonly value: unknown;
}

/** What the runtime attaches to the instance it runs a task on. */
export interface TaskBinding {
  pathspec: string;
  /** The foreach splits the task is inside, outermost first (static branches not included). */
  foreachStack: readonly ForeachContext[];
  /** A join step: the only kind where `mergeArtifacts` has inputs to merge. */
  isJoin: boolean;
  next?: NextCall;
  /** Takes an input task's artifact as-is (by content hash, no copy). */
  adoptArtifact(name: string, source: object): void;
  /** Content identity of an input's artifact (equal values have equal keys). */
  artifactKey(source: object, name: string): string | undefined;
  /** Names of an input's artifacts. */
  artifactNames(source: object): string[];
  /** Names that every task carries anyway (the run's parameters). */
  parameterNames: ReadonlySet<string>;
}

/** The names of a flow's own methods (its steps among them), not FlowSpec's. */
type StepNames<F> = { [K in keyof F]: F[K] extends (...args: never[]) => unknown ? K : never }[Exclude<keyof F, keyof FlowSpec>] & string;

/**
 * The incoming tasks of a join: array-like (a foreach's splits in index order) and, after
 * a static branch, also by the name of the branch's last step (`inputs.train.score`). The
 * flow's own method names are typed as present; any other key (`inputs[name]`, a typo) may
 * be undefined, so strict null checks catch `inputs.trian.score`.
 */
export type Inputs<F> = ReadonlyArray<F> & { readonly [S in StepNames<F>]: F } & { readonly [key: string]: F | undefined };

function stepName(target: unknown, where: string): string {
  if (typeof target === "function" && target.name) return target.name;
  throw new TransitionError(`this.next() takes steps such as this.train, got ${typeof target}`, { where });
}

export class FlowSpec {
  static readonly [FLOWSPEC_BRAND] = true;
  declare private [TASK]: TaskBinding | undefined;

  private binding(): TaskBinding {
    const binding = this[TASK];
    if (!binding) throw new Error("this flow object is not running as a flowrun task");
    return binding;
  }

  /**
   * In every step from a foreach split to its join: the element this task handles (the
   * innermost foreach's, in nested ones). Undefined outside a foreach, as in Metaflow.
   */
  get input(): any {
    return this.binding().foreachStack.at(-1)?.value;
  }

  /**
   * In every step from a foreach split to its join: the position of `input` (innermost
   * foreach). Outside a foreach it throws rather than return undefined (Metaflow's None):
   * in a body `this.index` is then a plain number, and a step outside reading it is a bug.
   */
  get index(): number {
    const binding = this.binding();
    const frame = binding.foreachStack.at(-1);
    if (!frame) {
      throw new TransitionError("this.index is only set between a foreach split and its join", {
        where: binding.pathspec,
        hint: "this step is not inside a foreach; this.foreachStack() is empty here",
      });
    }
    return frame.index;
  }

  /** The foreach splits this task is inside, outermost first: `{ step, index, numSplits, value }`. */
  foreachStack(): ForeachContext[] {
    return [...this.binding().foreachStack];
  }

  /**
   * Ends the step and names what runs next:
   * - `this.next(this.b)`; a static branch `this.next(this.a, this.b)`;
   * - foreach `this.next(this.body, { foreach: "items" })`;
   * - switch `this.next({ small: this.fast, large: this.slow }, { condition: "size" })`.
   */
  next(...steps: StepFn[]): void;
  next(step: StepFn, options: { foreach: string }): void;
  next(cases: Record<string, StepFn>, options: { condition: string }): void;
  next(...args: unknown[]): void {
    const binding = this.binding();
    if (binding.next) {
      throw new TransitionError("this.next() was called twice in one step", {
        where: binding.pathspec,
        hint: "a step ends with exactly one this.next(...) call",
      });
    }
    const last = args.at(-1);
    const options = last !== null && typeof last === "object" && !Array.isArray(last) && ("foreach" in last || "condition" in last)
      ? (args.pop() as { foreach?: string; condition?: string })
      : undefined;
    if (options?.condition !== undefined) {
      const casesArg = args[0] as Record<string, unknown>;
      const cases = Object.fromEntries(Object.entries(casesArg).map(([k, v]) => [k, stepName(v, binding.pathspec)]));
      binding.next = { targets: [...new Set(Object.values(cases))], condition: options.condition, cases };
      return;
    }
    binding.next = { targets: args.map((a) => stepName(a, binding.pathspec)), foreach: options?.foreach };
  }

  /**
   * In a join: copies onto this task every artifact whose value is equal across the inputs
   * (or present in only some of them), except the ones the join already set and the run's
   * parameters. `include` limits the merge to those names (each must exist in some input);
   * `exclude` skips names. All or nothing: when it throws (values that differ, a missing
   * `include` name) nothing was copied, so the step can set the conflicting ones and retry.
   */
  mergeArtifacts(inputs: ReadonlyArray<object>, options: { include?: string[]; exclude?: string[] } = {}): void {
    const binding = this.binding();
    const error = (message: string, hint: string) => new ArtifactError(message, { where: binding.pathspec, hint });
    if (!binding.isJoin) {
      throw error("mergeArtifacts is only for join steps: this step has no inputs to merge", "call it in a join step (one whose first parameter is `inputs`)");
    }
    if (options.include && options.exclude) {
      throw error("mergeArtifacts takes include or exclude, not both", "include lists the only names to merge; exclude lists names to leave out");
    }
    const include = options.include && new Set(options.include);
    const exclude = new Set(options.exclude ?? []);
    const setHere = (name: string) => binding.parameterNames.has(name) || Object.prototype.hasOwnProperty.call(this, name);
    const chosen = new Map<string, { source: object; key: string | undefined }>();
    const conflicts = new Set<string>();
    for (const input of inputs) {
      for (const name of binding.artifactNames(input)) {
        if ((include ? !include.has(name) : exclude.has(name)) || setHere(name)) continue;
        const key = binding.artifactKey(input, name);
        const first = chosen.get(name);
        if (!first) chosen.set(name, { source: input, key });
        else if (first.key !== key) conflicts.add(name);
      }
    }
    if (conflicts.size > 0) {
      const names = [...conflicts];
      throw error(
        `mergeArtifacts: ${names.map((n) => `'${n}'`).join(", ")} differ${names.length === 1 ? "s" : ""} across the join's inputs`,
        `assign ${names.length === 1 ? "it" : "them"} in the join step before merging, or pass { exclude: [${names.map((n) => `"${n}"`).join(", ")}] }`,
      );
    }
    const missing = (options.include ?? []).filter((name) => !chosen.has(name) && !setHere(name));
    if (missing.length > 0) {
      throw error(`mergeArtifacts: include names artifacts no input has: ${missing.map((n) => `'${n}'`).join(", ")}`, "include only names that some input task set");
    }
    for (const [name, { source }] of chosen) binding.adoptArtifact(name, source);
  }
}

export function bindTask(flow: FlowSpec, binding: TaskBinding | undefined): void {
  Object.defineProperty(flow, TASK, { value: binding, configurable: true, enumerable: false, writable: true });
}

export function taskBinding(flow: FlowSpec): TaskBinding | undefined {
  return (flow as unknown as Record<symbol, TaskBinding | undefined>)[TASK];
}

/** True for FlowSpec subclasses from any copy of flowrun. */
export function isFlowClass(value: unknown): value is typeof FlowSpec {
  return typeof value === "function" && (value as unknown as Record<symbol, unknown>)[FLOWSPEC_BRAND] === true;
}
