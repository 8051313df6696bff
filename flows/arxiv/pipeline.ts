/**
 * The flow's steps as a few high-level calls: corpus -> matrix + split, fit + score one k,
 * and the final summary of the chosen model. Kept apart from the flow file so each step
 * stays a handful of lines and these can be tested without the runtime.
 */
import type { ArxivRecord } from "./load.js";
import { scoreCoherence, topTermIds, type CoherenceScores } from "./coherence.js";
import { formatReport, topCategories, topicPrevalence, topWords, type CategoryShare, type CoherenceRow } from "./report.js";
import { splitHeldOut, type HeldOutSplit } from "./split.js";
import { fitTopicModel, inferDocTopics, mergeDocTopics, type TopicModel } from "./topic-model.js";
import { selectRows, vectorize, type DocTermMatrix, type VectorizeOptions } from "./tokenize.js";

/** Top words scored for coherence and shown in the report. */
export const TOP_N = 10;

export interface Corpus {
  dtm: DocTermMatrix;
  split: HeldOutSplit;
}

/**
 * Title + abstract of each record -> document-term matrix, and a seeded 20% held-out split.
 * A term must be in 5 abstracts (2 in a test-mode sample of a few hundred, else almost
 * nothing survives) and in at most 25% of them: above that ("model", "system") a word
 * names no topic.
 */
export function prepareCorpus(abstracts: ArxivRecord[], options: { seed: number } & VectorizeOptions): Corpus {
  const texts = abstracts.map((r) => `${r.title}. ${r.abstract}`);
  const dtm = vectorize(texts, {
    minDocFreq: abstracts.length >= 2000 ? 5 : 2,
    maxDocFraction: 0.25,
    ...options,
  });
  return { dtm, split: splitHeldOut(dtm.nDocs, { fraction: 0.2, seed: options.seed }) };
}

export interface FitResult {
  model: TopicModel;
  /** Coherence of the model's top words on the held-out abstracts. */
  scores: CoherenceScores;
  /** The model's line in the coherence table. */
  row: CoherenceRow;
}

export interface FitOptions {
  k: number;
  iterations: number;
  seed: number;
  /** Dirichlet priors; defaults as in fitTopicModel. */
  alpha?: number;
  beta?: number;
  /** Receives a progress line every 50 sweeps. */
  log?: (line: string) => void;
}

/** Fits k topics on the training abstracts and scores their coherence on the held-out ones. */
export function fitAndScore(corpus: Corpus, options: FitOptions): FitResult {
  const { k, iterations, seed, alpha, beta, log } = options;
  const started = performance.now();
  const model = fitTopicModel(selectRows(corpus.dtm, corpus.split.train), {
    k, iterations, seed, alpha, beta,
    onProgress: (sweep, ll) => log?.(`k=${k} sweep ${sweep}/${iterations} log p(w,z)=${ll.toExponential(6)}`),
  });
  // Wall time: parallel foreach splits share cores, so read it as an upper bound.
  const seconds = (performance.now() - started) / 1000;
  const scores = scoreCoherence(topTermIds(model.topicWord, TOP_N), selectRows(corpus.dtm, corpus.split.heldOut));
  const row = { k: model.k, npmi: scores.npmi.mean, umass: scores.umass.mean, logLikelihood: model.logLikelihood, seconds };
  return { model, scores, row };
}

/**
 * The fit with the highest mean held-out NPMI (ties: the smaller k, the simpler model).
 * Reads only `row`, so a join can pass its inputs without loading every input's model.
 */
export function pickBest<T extends { row: CoherenceRow }>(fits: readonly T[]): T {
  if (fits.length === 0) throw new Error("no topic models to choose from");
  return fits.reduce((best, fit) =>
    fit.row.npmi > best.row.npmi || (fit.row.npmi === best.row.npmi && fit.row.k < best.row.k) ? fit : best,
  );
}

export interface ModelSummary {
  topics: string[][];
  docTopics: number[][];
  topicCategories: CategoryShare[][];
  report: string;
}

/** Top words and categories of the chosen model, a topic mixture per abstract, the report. */
export function summariseModel(
  abstracts: ArxivRecord[],
  corpus: Corpus,
  chosen: { model: TopicModel; scores: CoherenceScores },
  table: CoherenceRow[],
): ModelSummary {
  const { model } = chosen;
  const heldOut = inferDocTopics(model, selectRows(corpus.dtm, corpus.split.heldOut));
  const docTopics = mergeDocTopics(corpus.split, model.docTopic, heldOut);
  const topics = topWords(model.topicWord, corpus.dtm.vocab, TOP_N);
  const topicCategories = topCategories(docTopics, abstracts.map((r) => r.categories));
  const report = formatReport({
    coherence: [...table].sort((a, b) => a.k - b.k),
    chosenK: model.k,
    topics,
    categories: topicCategories,
    prevalence: topicPrevalence(docTopics, model.k),
    npmiPerTopic: chosen.scores.npmi.perTopic,
    corpus: { abstracts: abstracts.length, heldOut: corpus.split.heldOut.length, terms: corpus.dtm.nTerms },
  });
  return { topics, docTopics, topicCategories, report };
}

/** "5,10,20", "[5,10,20]", 10 or [5, 10, 20] -> [5, 10, 20]; anything else is a clear error. */
export function parseTopicCounts(value: unknown): number[] {
  const invalid = () => new Error(`topic-counts must be integers >= 2 like "5,10,20" or [5,10,20], got ${JSON.stringify(value)}`);
  let list: unknown = value;
  if (typeof value === "string") {
    try {
      list = value.trim().startsWith("[") ? JSON.parse(value) : value.split(",").map((s) => Number(s.trim() || NaN));
    } catch {
      throw invalid();
    }
  } else if (typeof value === "number") {
    list = [value];
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((k) => Number.isInteger(k) && k >= 2)) throw invalid();
  return [...new Set(list as number[])];
}
