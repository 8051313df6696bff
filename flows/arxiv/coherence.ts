/**
 * Topic coherence: do a topic's top words actually occur together in real text? Both measures
 * here count co-occurrence at the level of whole documents (boolean document co-occurrence,
 * not a sliding window: an abstract is about one window long anyway) over a *reference* set
 * of documents — the held-out abstracts, so a topic is not rewarded for memorising the
 * training set. With D(w) = number of reference documents containing w, D(wi, wj) = number
 * containing both, N = number of reference documents, P(w) = D(w)/N, P(wi, wj) = D(wi, wj)/N:
 *
 * NPMI (Bouma 2009; the C_NPMI of Röder et al. 2015, document-boolean variant), in [-1, 1]:
 *   NPMI(wi, wj) = log[(P(wi, wj) + ε) / (P(wi) P(wj))] / −log(P(wi, wj) + ε),   ε = 1e-12
 *   A topic's score is the mean over all pairs i < j of its top N words.
 *
 * UMass (Mimno et al. 2011), ≤ log 2, higher is better; words in rank order w1, w2, ...:
 *   UMass(wi, wj) = log[(D(wi, wj) + 1) / D(wj)]   for j < i (wj ranks higher)
 *   A topic's score is the mean over its N(N−1)/2 pairs (Mimno sums; the mean makes scores
 *   comparable across N).
 *
 * Edge cases, so scores are always finite: a pair with a word that no reference document
 * contains gets the measure's worst value (NPMI −1, UMass log(1/N)): the held-out text never
 * uses that word, so the topic cannot be coherent in it. A pair present in every reference
 * document gets NPMI 1 (the formula's limit; with ε it would evaluate to −1).
 * A model's score is the mean over its topics.
 */
import { termCounts, type DocTermMatrix } from "./tokenize.js";

export const NPMI_EPSILON = 1e-12;

export interface Coherence {
  /** Mean over topics. */
  mean: number;
  perTopic: number[];
}

export interface CoherenceScores {
  npmi: Coherence;
  umass: Coherence;
  /** Top words per topic that were scored, and the number of reference documents. */
  topN: number;
  referenceDocs: number;
}

/** Ids of each topic's `n` most probable terms, most probable first (ties: lower id first). */
export function topTermIds(topicWord: ArrayLike<number>[], n: number): number[][] {
  return topicWord.map((row) =>
    Array.from(row, (p, id) => ({ id, p }))
      .sort((a, b) => b.p - a.p || a.id - b.id)
      .slice(0, n)
      .map(({ id }) => id),
  );
}

/** Both measures over the reference documents, for topics given as ranked term ids. */
export function scoreCoherence(topics: number[][], reference: DocTermMatrix): CoherenceScores {
  const n = reference.nDocs;
  const counts = coOccurrence(topics, reference);
  return {
    npmi: summarise(counts.map((topic) => meanOverPairs(topic, (dI, dJ, dIJ) => npmi(dI, dJ, dIJ, n)))),
    umass: summarise(counts.map((topic) => meanOverPairs(topic, (dI, dJ, dIJ) => umass(dI, dJ, dIJ, n)))),
    topN: Math.max(0, ...topics.map((words) => words.length)),
    referenceDocs: n,
  };
}

export function npmiCoherence(topics: number[][], reference: DocTermMatrix): Coherence {
  return scoreCoherence(topics, reference).npmi;
}

export function umassCoherence(topics: number[][], reference: DocTermMatrix): Coherence {
  return scoreCoherence(topics, reference).umass;
}

/** Reference-document counts for one topic's top words. */
interface TopicCounts {
  /** The words w_1, w_2, ... in rank order. */
  words: number[];
  /** docFreq[i] = D(w_i). */
  docFreq: number[];
  /** joint[i][j] = D(w_i, w_j), for j < i. */
  joint: number[][];
}

// One pass over the reference documents: mark each document's terms, then test only the
// topics' top-word pairs (K · N² lookups per document), never the full V² co-occurrence.
function coOccurrence(topics: number[][], reference: DocTermMatrix): TopicCounts[] {
  const present = new Uint8Array(reference.nTerms);
  const counts = topics.map((words) => ({ words, docFreq: words.map(() => 0), joint: words.map(() => words.map(() => 0)) }));
  for (let d = 0; d < reference.nDocs; d++) {
    const terms = Array.from(termCounts(reference, d), ([term]) => term);
    for (const term of terms) present[term] = 1;
    for (const { words, docFreq, joint } of counts) {
      for (const [i, word] of words.entries()) {
        if (!present[word]) continue;
        docFreq[i]!++;
        const row = joint[i]!;
        for (let j = 0; j < i; j++) if (present[words[j]!]) row[j]!++;
      }
    }
    for (const term of terms) present[term] = 0;
  }
  return counts;
}

// Both measures score a pair from D(w_i), D(w_j), D(w_i, w_j) and N, where w_i ranks below w_j.
function npmi(dI: number, dJ: number, dIJ: number, n: number): number {
  if (dI === 0 || dJ === 0) return -1;
  if (dIJ === n) return 1;
  const pIJ = dIJ / n + NPMI_EPSILON;
  return Math.log(pIJ / ((dI / n) * (dJ / n))) / -Math.log(pIJ);
}

// Conditions the lower-ranked word on the higher-ranked one.
function umass(dI: number, dJ: number, dIJ: number, n: number): number {
  if (dJ === 0 || dI === 0) return Math.log(1 / Math.max(n, 1));
  return Math.log((dIJ + 1) / dJ);
}

function meanOverPairs({ docFreq, joint }: TopicCounts, score: (dI: number, dJ: number, dIJ: number) => number): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 1; i < docFreq.length; i++) {
    const dI = docFreq[i]!;
    const row = joint[i]!;
    for (let j = 0; j < i; j++, pairs++) sum += score(dI, docFreq[j]!, row[j]!);
  }
  return pairs === 0 ? 0 : sum / pairs;
}

function summarise(perTopic: number[]): Coherence {
  const mean = perTopic.length === 0 ? 0 : perTopic.reduce((a, b) => a + b, 0) / perTopic.length;
  return { mean, perTopic };
}
