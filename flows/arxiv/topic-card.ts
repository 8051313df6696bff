/**
 * The run's card (`flowrun card view ArxivAbstractTopicModel/<run>/end`, or the task's page in
 * `flowrun ui`): the coherence of each topic count as a chart, and the chosen model's topics
 * with their top words and the arXiv categories they come from.
 */
import { Markdown, Table, VegaLite, type CardComponent } from "flowrun";
import type { CategoryShare, CoherenceRow } from "./report.js";

export function topicCard(options: {
  abstracts: number;
  chosenK: number;
  coherence: readonly CoherenceRow[];
  topics: readonly string[][];
  topicCategories: readonly CategoryShare[][];
}): CardComponent[] {
  const { abstracts, chosenK, coherence, topics, topicCategories } = options;
  const byK = [...coherence].sort((a, b) => a.k - b.k);
  const best = byK.find((row) => row.k === chosenK);
  return [
    new Markdown(`# ${chosenK} topics in ${abstracts.toLocaleString("en-US")} arXiv abstracts\n\n` +
      `Fitted ${byK.length} LDA model${byK.length === 1 ? "" : "s"} (k = ${byK.map((r) => r.k).join(", ")}) and kept the one whose topics are the most coherent on held-out abstracts` +
      (best ? `: mean NPMI ${best.npmi.toFixed(3)} at k = ${chosenK}.` : ".")),
    new VegaLite({
      title: "Coherence per topic count (NPMI on held-out abstracts, higher is better)",
      width: 420,
      height: 200,
      data: { values: byK.map((row) => ({ k: row.k, npmi: Number(row.npmi.toFixed(4)), chosen: row.k === chosenK ? "chosen" : "tried" })) },
      layer: [
        { mark: { type: "line", point: false }, encoding: { x: { field: "k", type: "quantitative", title: "topics (k)" }, y: { field: "npmi", type: "quantitative", title: "mean NPMI", scale: { zero: false } } } },
        { mark: { type: "point", filled: true, size: 80 }, encoding: { x: { field: "k", type: "quantitative" }, y: { field: "npmi", type: "quantitative" }, color: { field: "chosen", type: "nominal", title: null } } },
      ],
    }),
    new Table(
      topics.map((words, i) => [i + 1, words.slice(0, 10).join(", "), (topicCategories[i] ?? []).slice(0, 3).map((c) => `${c.category} ${(c.share * 100).toFixed(0)}%`).join(", ")]),
      { headers: ["topic", "top words", "arXiv categories"] },
    ),
  ];
}
