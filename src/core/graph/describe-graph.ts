/** The text of `flowrun show`: what a flow does, what it takes, and how its steps connect. */
import type { DecoratorInfo, FlowGraph, ParameterInfo, StepNode } from "./types.js";

export function describeGraph(graph: FlowGraph): string {
  const out: string[] = [`Flow ${graph.className}  (${graph.file})`];
  if (graph.doc) out.push(...indent(graph.doc, 2));
  for (const d of graph.decorators) out.push(`  ${decorator(d)}`);

  out.push("", "Parameters:");
  if (graph.parameters.length === 0) out.push("  (none)");
  else out.push(...table(graph.parameters.map(parameterRow)).map((row) => `  ${row}`));

  out.push("", "Steps:");
  for (const step of graph.steps.values()) {
    out.push(`  ${step.name}${stepTags(graph, step)}`);
    if (step.doc) out.push(...indent(step.doc, 6));
    for (const d of step.decorators) if (d.name !== "step") out.push(`      ${decorator(d)}`);
    out.push(`      ${transition(step)}`);
  }
  return out.join("\n") + "\n";
}

/** `→ a, b (split)`, `→ train (foreach over sizes)`, `→ small: fast | large: slow (switch on size)`. */
export function transition(step: StepNode): string {
  switch (step.kind) {
    case "end":
      return "(end of the flow)";
    case "linear":
      return `→ ${step.next.join(", ")}`;
    case "split":
      return `→ ${step.next.join(", ")} (split${joinedBy(step)})`;
    case "foreach":
      return `→ ${step.next.join(", ")} (foreach over ${step.foreach ?? "?"}${joinedBy(step)})`;
    case "switch": {
      const cases = Object.entries(step.switchCases ?? {}).map(([value, target]) => `${value}: ${target}`);
      return `→ ${cases.join(" | ")} (switch on ${step.condition ?? "?"})`;
    }
  }
}

function joinedBy(step: StepNode): string {
  return step.matchingJoin ? `, joined in ${step.matchingJoin}` : "";
}

function stepTags(graph: FlowGraph, step: StepNode): string {
  const tags: string[] = [];
  if (step.async) tags.push("async");
  if (step.isJoin) {
    const closes = step.splitParents.at(-1);
    const kind = closes ? graph.steps.get(closes)?.kind : undefined;
    tags.push(closes ? `join of the ${kind === "foreach" ? "foreach" : "split"} in ${closes}` : "join");
  }
  return tags.length ? `  (${tags.join(", ")})` : "";
}

function decorator(d: DecoratorInfo): string {
  return d.args ? `@${d.name}(${d.args})` : `@${d.name}`;
}

function parameterRow(p: ParameterInfo): string[] {
  const type = p.kind === "IncludeFile" ? "file" : (p.typeName ?? "auto");
  const value = p.required ? "required" : p.defaultText !== undefined ? `default: ${defaultLabel(p.defaultText)}` : "no default";
  const split = p.separator !== undefined ? `, split on ${JSON.stringify(p.separator)}` : "";
  return [`--${p.name}`, `${type}${split}`, value, p.help ?? ""];
}

/** Left-aligned columns; the last column is free text and is not padded. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ").trimEnd());
}

function indent(text: string, spaces: number): string[] {
  return text.split("\n").map((line) => (line ? " ".repeat(spaces) + line : ""));
}

/**
 * A default as the user will get it: a literal as written; a function is called at run
 * start (it may read `current`), so its source says nothing useful here.
 */
export function defaultLabel(defaultText: string): string {
  const text = defaultText.trim();
  if (/^(async\s+)?(function\b|[A-Za-z_$][\w$]*\s*=>|\([^]*?\)\s*(:[^=]*)?=>)/.test(text)) return "computed at run start";
  return text.replace(/\s+/g, " ");
}
