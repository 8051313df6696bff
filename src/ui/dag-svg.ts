/**
 * A run's DAG as SVG, laid out by dagre (top to bottom): one box per step, coloured by its
 * state, with its task counts; each box links to the step's first task and carries
 * `data-step`, so live updates restyle it in place.
 */
import dagre, { type Edge } from "@dagrejs/dagre";
import type { RunGraph } from "../../runtime/metadata/records.js";
import { html, type SafeHtml } from "./html.js";
import type { StepSummary } from "./ui-data.js";

const NODE_HEIGHT = 46;
const CHAR_WIDTH = 8;

export function dagSvg(graph: RunGraph, steps: readonly StepSummary[], stepHref: (step: string) => string | undefined): SafeHtml {
  const layout = new dagre.graphlib.Graph();
  layout.setGraph({ rankdir: "TB", nodesep: 30, ranksep: 36, marginx: 8, marginy: 8 });
  layout.setDefaultEdgeLabel(() => ({}));
  const summaries = new Map(steps.map((s) => [s.name, s]));
  for (const step of graph.steps) {
    const width = Math.max(110, (Math.max(step.name.length, countsText(summaries.get(step.name)).length) + 4) * CHAR_WIDTH);
    layout.setNode(step.name, { width, height: NODE_HEIGHT });
  }
  for (const step of graph.steps) for (const target of step.next) if (layout.hasNode(target)) layout.setEdge(step.name, target);
  dagre.layout(layout);
  const { width = 0, height = 0 } = layout.graph();

  const edges = layout.edges().map((e: Edge) => {
    const points: Array<{ x: number; y: number }> = layout.edge(e).points ?? [];
    const d = points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
    return html`<path class="edge" d="${d}" marker-end="url(#arrow)"></path>`;
  });
  const nodes = graph.steps.map((step) => {
    const node = layout.node(step.name);
    const summary = summaries.get(step.name);
    const x = node.x - node.width / 2;
    const y = node.y - node.height / 2;
    const about = [step.doc, step.foreach && `foreach over ${step.foreach}`, step.decorators.map((d) => `@${d}`).join(" ")].filter(Boolean).join("\n");
    const box = html`<g class="step state-${summary?.state ?? "pending"}" data-step="${step.name}" transform="translate(${x.toFixed(1)},${y.toFixed(1)})">
${about ? html`<title>${about}</title>` : null}<rect width="${node.width}" height="${node.height}" rx="6"></rect>
<text class="name" x="${node.width / 2}" y="19">${step.name}${step.foreach ? " ⟳" : ""}</text>
<text class="counts" x="${node.width / 2}" y="36">${countsText(summary)}</text></g>`;
    const href = stepHref(step.name);
    return href ? html`<a href="${href}">${box}</a>` : box;
  });
  return html`<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"></path></marker></defs>
${edges}${nodes}</svg>`;
}

/** `3/10 done · 1 failed · 2 running`, or the state when there is nothing to count. */
export function countsText(summary: StepSummary | undefined): string {
  if (!summary || summary.total === 0) return "not started";
  const parts = [`${summary.done}/${summary.total} done`];
  if (summary.failed) parts.push(`${summary.failed} failed`);
  if (summary.running) parts.push(`${summary.running} running`);
  return parts.join(" · ");
}
