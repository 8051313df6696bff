/** Builders for `GraphIssue`s, shared by validation, split analysis and lint. */
import type { FlowGraph, GraphIssue, SourceLocation, StepNode } from "./types.js";

export function graphError(code: string, loc: SourceLocation, message: string, hint: string): GraphIssue {
  return { severity: "error", code, message, hint, loc };
}

export function graphWarning(code: string, loc: SourceLocation, message: string, hint: string): GraphIssue {
  return { severity: "warning", code, message, hint, loc };
}

/** Where a problem of the flow as a whole is reported: the class name, else the file's first line. */
export function flowLoc(graph: FlowGraph): SourceLocation {
  return graph.loc ?? { file: graph.file, line: 1, column: 1 };
}

/** Where a problem of a step's transition is reported: its `this.next` call, else the step. */
export function transitionLoc(step: StepNode): SourceLocation {
  return step.nextLoc ?? step.loc;
}

/** Issues in reading order, errors before warnings on the same line. */
export function sortIssues(issues: GraphIssue[]): GraphIssue[] {
  return [...issues].sort(
    (a, b) =>
      a.loc.line - b.loc.line ||
      a.loc.column - b.loc.column ||
      (a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1),
  );
}
