/**
 * LDA (latent Dirichlet allocation) fitted by collapsed Gibbs sampling (Griffiths & Steyvers
 * 2004), written here rather than taken from npm: the npm LDA packages are unmaintained,
 * take raw sentences instead of counts, and draw from Math.random, so topics could not be
 * reproduced from a seed. Each sweep resamples every token's topic from
 *
 *   p(z = t | rest) ∝ (n_dt + α) · (n_wt + β) / (n_t + Vβ)
 *
 * with the token's own assignment removed from the counts. Counts live in typed arrays,
 * topic-word counts word-major (n_wt at w*K + t) so the K values read for one token are
 * contiguous. Cost: O(tokens · K) per sweep. SparseLDA-style bucket sampling (Yao et al. 2009)
 * would skip zero counts but needs per-word sorted topic lists; it pays off mainly for K in
 * the hundreds, and K here is 5-20.
 */
import { termCounts, type DocTermMatrix } from "./tokenize.js";
import { checkSeed, mulberry32 } from "./random.js";

export interface TopicModelOptions {
  k: number;
  /** Gibbs sweeps over all tokens. Default 200. */
  iterations?: number;
  /** Default 1. Same seed + same data = identical model. */
  seed?: number;
  /** Document-topic Dirichlet prior. Default 0.1: abstracts are short and mostly about 1-2 topics. */
  alpha?: number;
  /** Topic-word Dirichlet prior. Default 0.01 (Griffiths & Steyvers). */
  beta?: number;
  /** Called every `progressEvery` sweeps (default 50) and after the last one. */
  onProgress?: (iteration: number, logLikelihood: number) => void;
  progressEvery?: number;
}

/** A fitted model; plain data (it becomes an artifact). */
export interface TopicModel {
  k: number;
  alpha: number;
  beta: number;
  iterations: number;
  seed: number;
  /** k rows over the vocabulary, each a probability distribution (sums to 1). */
  topicWord: number[][];
  /** One row per document of the training matrix, each sums to 1. */
  docTopic: number[][];
  /** Tokens assigned to each topic in the final sample. */
  topicTokens: number[];
  /**
   * log p(words, topic assignments) of the final sample, the quantity the sampler climbs
   * (Mallet reports the same); higher is better. Compare only between fits of the same data.
   */
  logLikelihood: number;
}

export function fitTopicModel(dtm: DocTermMatrix, options: TopicModelOptions): TopicModel {
  const { k: K } = options;
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`k must be a positive integer, got ${K}`);
  const iterations = options.iterations ?? 200;
  const seed = checkSeed(options.seed ?? 1);
  const alpha = options.alpha ?? 0.1;
  const beta = options.beta ?? 0.01;
  const progressEvery = options.progressEvery ?? 50;
  const V = dtm.nTerms;
  const vBeta = V * beta;
  const random = mulberry32(seed);

  // One entry per token occurrence (CSR counts expanded), with a random initial topic.
  let total = 0;
  for (const count of dtm.counts) total += count;
  const words = new Int32Array(total);
  const docStart = new Int32Array(dtm.nDocs + 1);
  const z = new Int32Array(total);
  const ndt = new Int32Array(dtm.nDocs * K);
  const nwt = new Int32Array(V * K);
  const nt = new Int32Array(K);
  for (let d = 0, i = 0; d < dtm.nDocs; d++) {
    for (const [word, count] of termCounts(dtm, d)) {
      for (let c = 0; c < count; c++, i++) {
        const t = Math.floor(random() * K);
        words[i] = word;
        z[i] = t;
        ndt[d * K + t]!++;
        nwt[word * K + t]!++;
        nt[t]!++;
      }
    }
    docStart[d + 1] = i;
  }

  const state: GibbsState = { K, alpha, beta, vBeta, words, docStart, z, ndt, nwt, nt };
  const logJoint = () => logWordsGivenTopics(nwt, nt, V, beta) + logTopics(ndt, dtm.nDocs, K, alpha);
  for (let iter = 1; iter <= iterations; iter++) {
    sweep(state, random);
    if (options.onProgress && (iter % progressEvery === 0 || iter === iterations)) {
      options.onProgress(iter, logJoint());
    }
  }

  const topicWord: number[][] = [];
  for (const [t, n] of nt.entries()) {
    const row = new Array<number>(V);
    for (let w = 0; w < V; w++) row[w] = (nwt[w * K + t]! + beta) / (n + vBeta);
    topicWord.push(normalise(row));
  }
  const docTopic: number[][] = [];
  for (let d = 0; d < dtm.nDocs; d++) {
    docTopic.push(normalise(Array.from(ndt.subarray(d * K, (d + 1) * K), (n) => n + alpha)));
  }
  return {
    k: K, alpha, beta, iterations, seed, topicWord, docTopic,
    topicTokens: Array.from(nt),
    logLikelihood: logJoint(),
  };
}

interface GibbsState {
  K: number;
  alpha: number;
  beta: number;
  vBeta: number;
  words: Int32Array;
  /** Token range of document d: docStart[d] .. docStart[d + 1]. */
  docStart: Int32Array;
  z: Int32Array;
  ndt: Int32Array;
  nwt: Int32Array;
  nt: Int32Array;
}

// One pass over all tokens. A function of its own, with everything in locals: arrays that a
// closure captures live in a context object, and reading them through it in this loop made
// the sampler ~1.5x slower (measured on the full data, K = 20). Every index below is in range
// by construction (topics < K, words < V, tokens within docStart); the `!`s say so to the
// compiler and cost nothing at run time, where a bounds check per read would.
function sweep(state: GibbsState, random: () => number): void {
  const { K, alpha, beta, vBeta, words, docStart, z, ndt, nwt, nt } = state;
  // 1 / (n_t + Vβ) kept up to date: one division per count change, not K per token.
  const inv = Float64Array.from(nt, (n) => 1 / (n + vBeta));
  // The current document's n_dt + α as doubles, written back to ndt after the document.
  const theta = new Float64Array(K);
  const cumulative = new Float64Array(K);
  for (let d = 0; d + 1 < docStart.length; d++) {
    const dOff = d * K;
    for (let t = 0; t < K; t++) theta[t] = ndt[dOff + t]! + alpha;
    const end = docStart[d + 1]!;
    for (let i = docStart[d]!; i < end; i++) {
      const wOff = words[i]! * K;
      let t = z[i]!;
      theta[t]!--;
      nwt[wOff + t]!--;
      inv[t] = 1 / (--nt[t]! + vBeta);
      let sum = 0;
      for (let s = 0; s < K; s++) {
        sum += theta[s]! * (nwt[wOff + s]! + beta) * inv[s]!;
        cumulative[s] = sum;
      }
      t = sampleIndex(cumulative, random() * sum);
      z[i] = t;
      theta[t]!++;
      nwt[wOff + t]!++;
      inv[t] = 1 / (++nt[t]! + vBeta);
    }
    for (let t = 0; t < K; t++) ndt[dOff + t] = Math.round(theta[t]! - alpha);
  }
}

// The first index whose cumulative weight exceeds u; the last one if rounding left u on top.
function sampleIndex(cumulative: Float64Array, u: number): number {
  let t = 0;
  while (t < cumulative.length - 1 && cumulative[t]! <= u) t++;
  return t;
}

export interface InferOptions {
  /** Gibbs sweeps per document. Default 50. */
  iterations?: number;
  seed?: number;
}

/**
 * Topic mixtures of new documents under a fitted model ("fold-in"): Gibbs sampling of the
 * documents' tokens with the topic-word distributions held fixed, p(z = t) ∝ (n_dt + α) φ_tw.
 * Terms are ids into the same vocabulary the model was fitted on.
 */
export function inferDocTopics(model: TopicModel, dtm: DocTermMatrix, options: InferOptions = {}): number[][] {
  const K = model.k;
  const V = dtm.nTerms;
  const iterations = options.iterations ?? 50;
  const random = mulberry32(checkSeed(options.seed ?? model.seed));
  const phi = new Float64Array(V * K); // word-major, as in the sampler
  for (const [t, row] of model.topicWord.entries()) {
    for (const [w, p] of row.entries()) phi[w * K + t] = p;
  }
  const cumulative = new Float64Array(K);
  const result: number[][] = [];
  for (let d = 0; d < dtm.nDocs; d++) {
    const tokens: number[] = [];
    for (const [word, count] of termCounts(dtm, d)) {
      for (let c = 0; c < count; c++) tokens.push(word);
    }
    const z = tokens.map(() => Math.floor(random() * K));
    const n = new Float64Array(K);
    for (const t of z) n[t]!++;
    for (let iter = 0; iter < iterations; iter++) {
      for (let i = 0; i < tokens.length; i++) {
        n[z[i]!]!--;
        const wOff = tokens[i]! * K;
        let sum = 0;
        for (let s = 0; s < K; s++) cumulative[s] = sum += (n[s]! + model.alpha) * phi[wOff + s]!;
        const t = sampleIndex(cumulative, random() * sum);
        z[i] = t;
        n[t]!++;
      }
    }
    result.push(normalise(Array.from(n, (count) => count + model.alpha)));
  }
  return result;
}

/** Rows of a model's docTopic for training rows and inferred rows, back in corpus order. */
export function mergeDocTopics(
  split: { train: readonly number[]; heldOut: readonly number[] },
  train: number[][],
  heldOut: number[][],
): number[][] {
  const rows: number[][] = new Array(split.train.length + split.heldOut.length);
  split.train.forEach((doc, i) => (rows[doc] = train[i]!));
  split.heldOut.forEach((doc, i) => (rows[doc] = heldOut[i]!));
  return rows;
}

function normalise(row: number[]): number[] {
  let sum = 0;
  for (const x of row) sum += x;
  return row.map((x) => x / sum);
}

// log p(w | z) = K[lnΓ(Vβ) − V lnΓ(β)] + Σ_t [Σ_w lnΓ(n_wt + β) − lnΓ(n_t + Vβ)]
function logWordsGivenTopics(nwt: Int32Array, nt: Int32Array, V: number, beta: number): number {
  const K = nt.length;
  const lgBeta = logGamma(beta);
  let ll = K * (logGamma(V * beta) - V * lgBeta);
  for (const n of nwt) ll += n === 0 ? lgBeta : logGamma(n + beta);
  for (const n of nt) ll -= logGamma(n + V * beta);
  return ll;
}

// log p(z) = D[lnΓ(Kα) − K lnΓ(α)] + Σ_d [Σ_t lnΓ(n_dt + α) − lnΓ(n_d + Kα)]
function logTopics(ndt: Int32Array, D: number, K: number, alpha: number): number {
  const lgAlpha = logGamma(alpha);
  let ll = D * (logGamma(K * alpha) - K * lgAlpha);
  for (let d = 0; d < D; d++) {
    let nd = 0;
    for (const n of ndt.subarray(d * K, (d + 1) * K)) {
      nd += n;
      ll += n === 0 ? lgAlpha : logGamma(n + alpha);
    }
    ll -= logGamma(nd + K * alpha);
  }
  return ll;
}

// Lanczos approximation (g = 7, 9 terms), relative error ~1e-15 for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
