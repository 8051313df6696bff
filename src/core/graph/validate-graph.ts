/**
 * The errors that make a flow's graph unusable, each with a stable code, the step it
 * concerns, a one-line hint and the file:line of the step or its `this.next` call.
 *
 * Two phases, as a compiler would: first each step on its own (names, `this.next` calls,
 * targets); only when every edge is known does the graph as a whole get checked
 * (reachability, loops, split/join matching), so one typo does not also read as
 * "unreachable step" and "split never joined".
 */
import { PARAMETER_NAME, RESERVED_PARAMETER_NAMES } from "../flow/parameters.js";
import { flowLoc, graphError, sortIssues, transitionLoc } from "./issue.js";
import { closestName } from "./closest-name.js";
import { findCycles } from "./find-cycles.js";
import { checkJoinInputs } from "./join-inputs.js";
import { analyzeSplits } from "./split-analysis.js";
import type { FlowGraph, GraphIssue, StepNode } from "./types.js";

/**
 * Names a step cannot have: the members a step uses on `this` (a step of that name would
 * replace them) and what every JavaScript object inherits. The FlowSpec class and the
 * runtime should use this same list.
 */
export const FLOWSPEC_MEMBERS: readonly string[] = [
  "next",
  "input",
  "index",
  "inputs",
  "mergeArtifacts",
  "foreachStack",
  "name",
  "binding", // FlowSpec's private accessor for the running task
  "constructor",
  "toString",
  "valueOf",
  "toLocaleString",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "__proto__",
];

const FORMS_HINT =
  'write one of: this.next(this.b) | this.next(this.a, this.b) | this.next(this.body, { foreach: "items" }) | ' +
  'this.next({ x: this.a, y: this.b }, { condition: "choice" })';
const SWITCH_HINT =
  'to choose the next step at run time, use a switch: this.next({ a: this.x, b: this.y }, { condition: "artifact" })';

export function validateGraph(graph: FlowGraph): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const edgesKnown = checkSteps(graph, issues);
  if (edgesKnown) {
    const analysis = analyzeSplits(graph);
    for (const step of graph.steps.values()) {
      if (!analysis.reached.has(step.name)) {
        issues.push(
          graphError(
            "unreachable",
            step.loc,
            `step \`${step.name}\` is never reached from \`start\``,
            "point a `this.next(...)` call at it, or delete it",
          ),
        );
      }
    }
    issues.push(...findCycles(graph), ...analysis.issues, ...checkJoinInputs(graph, analysis.matchingJoin));
  }
  return sortIssues(issues);
}

/** Checks each step and the start/end pair; returns whether every edge of the graph is known. */
function checkSteps(graph: FlowGraph, issues: GraphIssue[]): boolean {
  const before = issues.length;
  checkStartAndEnd(graph, issues);
  for (const step of graph.steps.values()) {
    if (FLOWSPEC_MEMBERS.includes(step.name)) {
      issues.push(
        graphError(
          "reserved-name",
          step.loc,
          `step \`${step.name}\` has the name of a FlowSpec member (\`this.${step.name}\`)`,
          `rename the step; these names are taken: ${FLOWSPEC_MEMBERS.join(", ")}`,
        ),
      );
    }
    checkNextCalls(step, graph.steps.has("end"), issues);
    checkLiterals(step, issues);
    checkTargets(graph, step, issues);
  }
  checkParameters(graph, issues);
  return !issues.slice(before).some((i) => EDGE_CODES.has(i.code));
}

/** Codes after which some edge of the graph is unknown or wrong, so whole-graph checks would mislead. */
const EDGE_CODES = new Set([
  "missing-start",
  "missing-end",
  "missing-next",
  "end-has-next",
  "multiple-next",
  "bad-next",
  "unknown-step",
  "switch-case-not-step",
]);

function checkStartAndEnd(graph: FlowGraph, issues: GraphIssue[]): void {
  const { steps, className } = graph;
  if (!steps.has("start")) {
    issues.push(
      graphError(
        "missing-start",
        flowLoc(graph),
        `flow \`${className}\` has no \`start\` step`,
        "add a `@step start() { ... }`: every run begins there",
      ),
    );
  }
  if (!steps.has("end")) {
    const last = [...steps.values()].filter((s) => s.kind === "end").map((s) => `\`${s.name}\``);
    const without = last.length ? ` (steps without \`this.next\`: ${last.join(", ")})` : "";
    issues.push(
      graphError(
        "missing-end",
        flowLoc(graph),
        `flow \`${className}\` has no \`end\` step${without}`,
        "name the last step `end`, or add `@step end() {}` and point the last step at it",
      ),
    );
  }
}

/** A step makes exactly one `this.next` call, as its last statement; `end` makes none. */
function checkNextCalls(step: StepNode, hasEnd: boolean, issues: GraphIssue[]): void {
  const calls = step.syntax?.nextCalls ?? [];
  if (step.name === "end") {
    if (step.kind !== "end" || calls.length > 0) {
      issues.push(
        graphError(
          "end-has-next",
          transitionLoc(step),
          "step `end` calls `this.next(...)`, but `end` finishes the flow",
          "remove the `this.next` call from `end`, or rename this step and add a final `end` step",
        ),
      );
    }
    return;
  }
  if (step.kind === "end") {
    // Without an `end` step, `missing-end` already lists the steps that stop.
    if (!hasEnd) return;
    issues.push(
      graphError(
        "missing-next",
        step.loc,
        `step \`${step.name}\` has no \`this.next(...)\` call`,
        "end the step with `this.next(this.<step>)`; only `end` finishes the flow",
      ),
    );
    return;
  }
  if (calls.length > 1) {
    const lines = calls.map((c) => c.line);
    const listed = `${lines.slice(0, -1).join(", ")} and ${lines.at(-1)}`;
    issues.push(
      graphError(
        "multiple-next",
        calls[1]!,
        `step \`${step.name}\` calls \`this.next\` on lines ${listed}; a step makes exactly one \`this.next\` call, as its last statement`,
        SWITCH_HINT,
      ),
    );
  } else if (step.syntax?.nextNotLast) {
    const call = transitionLoc(step).line;
    const other = step.syntax.nextNotLast.line;
    const where = other > call ? `line ${other} comes after it` : `it is inside the statement on line ${other}`;
    issues.push(
      graphError(
        "next-not-last",
        transitionLoc(step),
        `the \`this.next\` call on line ${call} is not the last statement of step \`${step.name}\`: ${where}`,
        `move \`this.next(...)\` to the end of the step; ${SWITCH_HINT}`,
      ),
    );
  }
  if (step.syntax?.malformedNext) {
    issues.push(graphError("bad-next", transitionLoc(step), `step \`${step.name}\`: ${step.syntax.malformedNext}`, FORMS_HINT));
  }
}

function checkLiterals(step: StepNode, issues: GraphIssue[]): void {
  const bad = step.syntax?.nonLiteral;
  if (!bad) return;
  const guess = /^(?:this\.)?([A-Za-z_$][\w$]*)$/.exec(bad.text)?.[1] ?? "artifact";
  issues.push(
    graphError(
      `${bad.option}-not-literal`,
      transitionLoc(step),
      `the ${bad.option} of step \`${step.name}\` is \`${bad.text}\`, not a string literal; flowrun reads the graph without running code`,
      `name the artifact in quotes: { ${bad.option}: "${guess}" }`,
    ),
  );
}

/** Reports `next` targets (and switch cases) that are not steps. */
function checkTargets(graph: FlowGraph, step: StepNode, issues: GraphIssue[]): void {
  const nonMembers = new Set(step.syntax?.nonMemberTargets ?? []);
  const isStep = (t: string) => !nonMembers.has(t) && graph.steps.has(t);
  const bad = step.next.filter((t) => !isStep(t));
  for (const target of bad) {
    const written = nonMembers.has(target) ? `\`${target}\`, not \`this.<step>\`` : `\`${target}\`, which is not a step of this flow`;
    const guess = closestName(target, [...graph.steps.keys()]);
    const hint = guess ? `did you mean \`this.${guess}\`?` : "pass a method marked `@step` as `this.<step>` (is `@step` missing?)";
    if (step.kind === "switch") {
      const cases = Object.entries(step.switchCases ?? {}).filter(([, t]) => t === target).map(([k]) => `\`${k}\``);
      issues.push(
        graphError(
          "switch-case-not-step",
          transitionLoc(step),
          `switch case ${cases.join(", ")} of step \`${step.name}\` goes to ${written}`,
          hint,
        ),
      );
    } else {
      issues.push(
        graphError(
          "unknown-step",
          transitionLoc(step),
          `\`this.next\` in step \`${step.name}\` goes to ${written}`,
          hint,
        ),
      );
    }
  }
}

function checkParameters(graph: FlowGraph, issues: GraphIssue[]): void {
  const seen = new Map<string, string>();
  for (const p of graph.parameters) {
    const earlier = seen.get(p.name);
    if (earlier !== undefined) {
      issues.push(
        graphError(
          "duplicate-parameter",
          p.loc,
          `parameter \`${p.name}\` is defined twice (fields \`${earlier}\` and \`${p.field}\`)`,
          "give each parameter its own name",
        ),
      );
    }
    seen.set(p.name, p.field);
    if (!PARAMETER_NAME.test(p.name)) {
      issues.push(
        graphError(
          "parameter-name",
          p.loc,
          `parameter name \`${p.name}\` must start with a letter and hold only letters, digits, '-' and '_' (it is the option --${p.name})`,
          "rename the parameter; its field name can stay",
        ),
      );
    } else if (RESERVED_PARAMETER_NAMES.includes(p.name)) {
      issues.push(
        graphError(
          "parameter-name",
          p.loc,
          `parameter \`${p.name}\` has the name of a run option (--${p.name}), which would always win`,
          "rename the parameter; its field name can stay",
        ),
      );
    }
    if (graph.steps.has(p.field)) {
      issues.push(
        graphError(
          "name-clash",
          p.loc,
          `parameter field \`${p.field}\` has the same name as a step`,
          "rename the field or the step",
        ),
      );
    }
    if (FLOWSPEC_MEMBERS.includes(p.field)) {
      issues.push(
        graphError(
          "reserved-name",
          p.loc,
          `parameter field \`${p.field}\` has the name of a FlowSpec member (\`this.${p.field}\`)`,
          "rename the field; the parameter's command-line name can stay",
        ),
      );
    }
  }
}
