/** Turns a fitted model into readable results: top words, top arXiv categories, a text report. */
import { topTermIds } from "./coherence.js";

export interface CategoryShare {
  category: string;
  /** Fraction of the topic's total weight (over all documents) that this category carries. */
  share: number;
}

export interface CoherenceRow {
  k: number;
  /** Mean NPMI of the topics on the held-out abstracts (see coherence.ts). */
  npmi: number;
  umass: number;
  logLikelihood: number;
  seconds: number;
}

/** Each topic's `n` most probable words, most probable first. */
export function topWords(topicWord: ArrayLike<number>[], vocab: readonly string[], n = 10): string[][] {
  return topTermIds(topicWord, n).map((ids) => ids.map((id) => vocab[id]!));
}

/** Mean topic share over documents: how much of the corpus each topic explains. */
export function topicPrevalence(docTopic: ArrayLike<number>[], k: number): number[] {
  return Array.from({ length: k }, (_, t) => {
    let total = 0;
    for (const row of docTopic) total += row[t]!;
    return docTopic.length === 0 ? 0 : total / docTopic.length;
  });
}

/**
 * The arXiv categories that carry most of each topic. A document adds its topic share θ_dt
 * to its category; by default only its primary (first-listed) category, the one its authors
 * filed it under, so cross-listings do not count twice and shares sum to 1 per topic.
 * `use: "all"` splits θ_dt evenly over all the document's categories instead.
 */
export function topCategories(
  docTopic: ArrayLike<number>[],
  categories: readonly (readonly string[])[],
  options: { n?: number; use?: "primary" | "all" } = {},
): CategoryShare[][] {
  const n = options.n ?? 3;
  const k = docTopic[0]?.length ?? 0;
  const weights = Array.from({ length: k }, () => new Map<string, number>());
  docTopic.forEach((row, d) => {
    const filed = categories[d]!;
    const cats = options.use === "all" ? filed : filed.slice(0, 1);
    for (const category of cats) {
      for (const [t, byCategory] of weights.entries()) {
        byCategory.set(category, (byCategory.get(category) ?? 0) + row[t]! / cats.length);
      }
    }
  });
  return weights.map((byCategory) => {
    let total = 0;
    for (const w of byCategory.values()) total += w;
    return [...byCategory]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([category, w]) => ({ category, share: total === 0 ? 0 : w / total }));
  });
}

export interface ReportInput {
  coherence: CoherenceRow[];
  chosenK: number;
  topics: string[][];
  categories: CategoryShare[][];
  prevalence: number[];
  npmiPerTopic: number[];
  corpus: { abstracts: number; heldOut: number; terms: number };
}

/** Coherence table for every k tried, then the chosen model's topics, most prevalent first. */
export function formatReport(input: ReportInput): string {
  const { corpus } = input;
  const lines = [
    `Topic model of ${corpus.abstracts} arXiv abstracts (${corpus.terms} terms); ` +
      `coherence measured on ${corpus.heldOut} held-out abstracts.`,
    "",
    "   k   NPMI    UMass   log p(w,z)     fit",
  ];
  for (const row of input.coherence) {
    const mark = row.k === input.chosenK ? "  <- chosen (highest NPMI)" : "";
    lines.push(
      `${pad(row.k, 4)} ${pad(row.npmi.toFixed(3), 6)} ${pad(row.umass.toFixed(3), 8)} ` +
        `${pad(row.logLikelihood.toExponential(4), 12)} ${pad(row.seconds.toFixed(1), 6)}s${mark}`,
    );
  }
  const byPrevalence = [...input.prevalence.entries()].sort(([, a], [, b]) => b - a);
  lines.push("", `Topics of the k=${input.chosenK} model, most prevalent first:`);
  for (const [t, prevalence] of byPrevalence) {
    const share = (prevalence * 100).toFixed(1);
    const categories = input.categories[t]!.map((c) => `${c.category} ${(c.share * 100).toFixed(0)}%`);
    lines.push(
      "",
      `Topic ${t + 1}  (${share}% of the text, NPMI ${input.npmiPerTopic[t]!.toFixed(3)})`,
      `  words:      ${input.topics[t]!.join(", ")}`,
      `  categories: ${categories.join("; ")}`,
    );
  }
  return lines.join("\n");
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}
