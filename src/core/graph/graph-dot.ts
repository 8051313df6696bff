/**
 * The graph as Graphviz DOT (`flowrun output-dot flow.ts | dot -Tsvg > flow.svg`).
 * Joins have a double border; foreach edges are bold and name the artifact; switch edges
 * are dashed and name their case.
 */
import type { FlowGraph, StepNode } from "./types.js";

export function graphToDot(graph: FlowGraph): string {
  const lines = [
    `digraph ${quote(graph.className)} {`,
    "  rankdir=TB;",
    '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f5", fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const step of graph.steps.values()) lines.push(`  ${quote(step.name)} [${nodeAttributes(step)}];`);
  for (const step of graph.steps.values()) {
    for (const [target, attrs] of edges(step)) {
      if (graph.steps.has(target)) lines.push(`  ${quote(step.name)} -> ${quote(target)}${attrs ? ` [${attrs}]` : ""};`);
    }
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

function nodeAttributes(step: StepNode): string {
  const kind = kindLabel(step);
  const attrs = [`label=${quote(kind === step.name ? kind : `${step.name}\n${kind}`)}`];
  if (step.isJoin) attrs.push("peripheries=2", 'fillcolor="#dbe8fb"');
  if (step.name === "start" || step.name === "end") attrs.push('fillcolor="#d9f2d9"');
  return attrs.join(", ");
}

function kindLabel(step: StepNode): string {
  const kind = step.kind === "linear" ? "" : step.kind;
  return step.isJoin ? (kind ? `join, ${kind}` : "join") : kind || "linear";
}

function edges(step: StepNode): [string, string][] {
  switch (step.kind) {
    case "foreach":
      return step.next.map((t) => [t, `label=${quote(`foreach ${step.foreach ?? "?"}`)}, style=bold`]);
    case "switch":
      // One edge per case: two cases that go to the same step still read as two choices.
      return Object.entries(step.switchCases ?? {}).map(([value, t]) => [t, `label=${quote(value)}, style=dashed`]);
    default:
      return step.next.map((t) => [t, ""]);
  }
}

/** A DOT string: quotes and backslashes escaped, newlines as DOT's centred line break. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
