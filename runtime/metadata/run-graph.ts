/** The flow's graph as a run records it: what a reader (the web UI) draws, with no source text. */
import type { FlowGraph } from "../../src/core/graph/types.js";
import type { RunGraph } from "./records.js";

export function runGraph(graph: FlowGraph): RunGraph {
  return {
    steps: [...graph.steps.values()].map((node) => ({
      name: node.name,
      kind: node.kind,
      next: node.next,
      isJoin: node.isJoin,
      ...(node.foreach && { foreach: node.foreach }),
      ...(node.doc && { doc: node.doc }),
      decorators: node.decorators.map((d) => d.name).filter((name) => name !== "step"),
    })),
  };
}
