/** The static graph of a flow, found from its source without running it. */

export interface SourceLocation {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

export interface DecoratorInfo {
  /** `retry`, `catchError`, `step`, `project`, ... */
  name: string;
  /** Source text of the arguments, e.g. `{ times: 2 }`; empty when there are none. */
  args: string;
  loc: SourceLocation;
}

/**
 * `linear`: one successor. `split`: static branch to several steps (needs a join).
 * `foreach`: one task per element of an array artifact (needs a join).
 * `switch`: exactly one of several steps, chosen by a string artifact. `end`: no successor.
 * A join is any step whose first parameter is `inputs` (`isJoin`); its kind describes its
 * own outgoing transition like any other step.
 */
export type TransitionKind = "linear" | "split" | "foreach" | "switch" | "end";

/** What the parser saw of a step's `this.next` calls, kept for validation messages. */
export interface StepSyntax {
  /** Every `this.next(...)` call in the step body. */
  nextCalls: SourceLocation[];
  /** A `this.next` call that is not the last statement. */
  nextNotLast?: SourceLocation;
  /** Why the `this.next(...)` call cannot be read as a transition. */
  malformedNext?: string;
  /** An option (`foreach`, `condition`) that is not a string literal. */
  nonLiteral?: { option: string; text: string };
  /** Targets that are not `this.<step>`. */
  nonMemberTargets?: string[];
}

/** A name read from a join's `inputs`, and where. */
export interface InputRead {
  name: string;
  loc: SourceLocation;
}

export interface StepNode {
  name: string;
  kind: TransitionKind;
  isJoin: boolean;
  /** Successor step names, in source order (switch: the case targets in case order). */
  next: string[];
  /** foreach: the artifact name iterated over. */
  foreach?: string;
  /** switch: the artifact whose string value picks the case. */
  condition?: string;
  /** switch: case value -> step name. */
  switchCases?: Record<string, string>;
  /** Steps with an edge into this one. */
  parents: string[];
  /** Steps that opened a split/foreach not yet joined when this step runs, outermost first. */
  splitParents: string[];
  /** For a split or foreach step: the join step that closes it. */
  matchingJoin?: string;
  doc?: string;
  decorators: DecoratorInfo[];
  async: boolean;
  loc: SourceLocation;
  /** Location of the `this.next(...)` call. */
  nextLoc?: SourceLocation;
  /** Artifact name -> where the step's body assigns it (or into it), for errors about its value. */
  assignments?: Record<string, SourceLocation[]>;
  /** A join: the names its body reads from `inputs` statically (`inputs.a`, `inputs["a"]`, `const { a } = inputs`). */
  inputReads?: InputRead[];
  syntax?: StepSyntax;
}

export interface ParameterInfo {
  /** Class field the value appears on (`nTopics`). */
  field: string;
  /** Name on the command line (`n-topics`). */
  name: string;
  kind: "Parameter" | "IncludeFile";
  /** Source text of `default`, if given. */
  defaultText?: string;
  help?: string;
  /** `String`, `Number`, `Boolean`, `JSONType` when written; else inferred from a literal default. */
  typeName?: string;
  required: boolean;
  /** `separator`, when written as a string literal: the value is split into an array of strings. */
  separator?: string;
  loc: SourceLocation;
}

export interface FlowGraph {
  file: string;
  className: string;
  /** Location of the class name. */
  loc?: SourceLocation;
  doc?: string;
  /** Class-level decorators (`project`, `dependencies`, ...). */
  decorators: DecoratorInfo[];
  /** Steps in source order. */
  steps: Map<string, StepNode>;
  parameters: ParameterInfo[];
}

export interface GraphIssue {
  severity: "error" | "warning";
  /** Stable code, e.g. `unknown-step`, `missing-start`, `no-join`. */
  code: string;
  message: string;
  hint: string;
  loc: SourceLocation;
}
