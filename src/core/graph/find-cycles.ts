import { graphError, transitionLoc } from "./issue.js";
import type { FlowGraph, GraphIssue } from "./types.js";

/**
 * Loops are allowed only through a switch case (iterate until a condition holds): with
 * the switch edges removed the graph must be acyclic. Each edge that closes a loop is
 * reported at the `this.next` call that makes it.
 */
export function findCycles(graph: FlowGraph): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (name: string): void => {
    state.set(name, "open");
    path.push(name);
    const step = graph.steps.get(name)!;
    const edges = step.kind === "switch" ? [] : step.next.filter((t) => graph.steps.has(t));
    for (const child of edges) {
      if (state.get(child) === "open") {
        const loop = [...path.slice(path.indexOf(child)), child].map((s) => `\`${s}\``).join(" → ");
        issues.push(
          graphError(
            "cycle",
            transitionLoc(step),
            `steps ${loop} form a loop that no switch closes`,
            `only a switch case may point back (this.next({ again: this.${child}, done: this.end }, { condition: "status" }))`,
          ),
        );
      } else if (!state.has(child)) {
        visit(child);
      }
    }
    path.pop();
    state.set(name, "done");
  };
  // From `start` first, so the edge reported is the one that goes back, not one into the loop.
  const roots = graph.steps.has("start") ? ["start", ...graph.steps.keys()] : [...graph.steps.keys()];
  for (const name of roots) if (!state.has(name)) visit(name);
  return issues;
}
