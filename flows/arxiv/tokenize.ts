/**
 * Text -> tokens -> vocabulary -> document-term counts, as plain data.
 *
 * The document-term matrix is CSR (compressed sparse rows): row d's term ids are
 * `indices[indptr[d] .. indptr[d+1])` (ascending) with matching `counts`. Abstracts use
 * ~60 distinct terms out of ~10^4, so a dense matrix would be 99% zeros; CSR is also what
 * the Gibbs sampler walks, one document at a time.
 */
import { STOP_WORDS } from "./stopwords.js";

export interface DocTermMatrix {
  nDocs: number;
  nTerms: number;
  /** Term id -> term, sorted alphabetically. */
  vocab: string[];
  /** Length nDocs + 1. */
  indptr: Int32Array | number[];
  indices: Int32Array | number[];
  counts: Int32Array | number[];
}

export interface TokenizeOptions {
  /** Default: STOP_WORDS (English + academic filler). */
  stopWords?: ReadonlySet<string>;
  /** Shorter tokens are dropped. Default 3. */
  minLength?: number;
  /** Also emit "a b" for two kept tokens that were adjacent in the text. Default false. */
  bigrams?: boolean;
}

export interface VocabularyOptions {
  /** Drop terms found in fewer documents. Default 5. */
  minDocFreq?: number;
  /** Drop terms found in more than this fraction of documents. Default 0.5. */
  maxDocFraction?: number;
}

export interface VectorizeOptions extends TokenizeOptions, VocabularyOptions {
  /** Map "states" -> "state" when the corpus also has "state" (see foldPlurals). Default true. */
  foldPlurals?: boolean;
}

// Math is removed whole: its letters are variable names ($V_{22}$, $\tau\in \s_3$), not words.
const MATH = /\$\$[\s\S]*?\$\$|\$[^$]*\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]/g;
// Accent commands keep their letter: Schr\"odinger -> Schrodinger, not "schr" + "dinger".
const ACCENT = /\\["'`^~=.]\{?([A-Za-z])\}?/g;
// Other commands (\emph, \cite, \alpha) go; their braced arguments stay, e.g. \emph{word}.
const COMMAND = /\\[A-Za-z]+\*?/g;
const COMBINING_MARKS = /\p{M}+/gu;
const NON_LETTERS = /[^\p{L}]+/u;

/** Lower-cased word tokens of one text, without stop words and short tokens. */
export function tokenize(text: string, options: TokenizeOptions = {}): string[] {
  const stopWords = options.stopWords ?? STOP_WORDS;
  const minLength = options.minLength ?? 3;
  const plain = text
    .replace(MATH, " ")
    .replace(ACCENT, "$1")
    .replace(COMMAND, " ")
    .normalize("NFD")
    .replace(COMBINING_MARKS, "")
    .toLowerCase();
  const tokens: string[] = [];
  let previous: string | undefined; // last raw token if it was kept, for bigrams
  for (const word of plain.split(NON_LETTERS)) {
    if (word === "") continue;
    const keep = word.length >= minLength && !stopWords.has(word);
    if (keep) {
      tokens.push(word);
      if (options.bigrams && previous !== undefined) tokens.push(`${previous} ${word}`);
    }
    previous = keep ? word : undefined;
  }
  return tokens;
}

// Latin/Greek plurals common in science abstracts, which no suffix rule reaches.
const IRREGULAR_PLURALS = new Map([
  ["matrices", "matrix"], ["vertices", "vertex"], ["indices", "index"], ["spectra", "spectrum"],
  ["phenomena", "phenomenon"], ["criteria", "criterion"], ["nuclei", "nucleus"], ["radii", "radius"],
  ["maxima", "maximum"], ["minima", "minimum"], ["quanta", "quantum"], ["hypotheses", "hypothesis"],
  ["axes", "axis"], ["loci", "locus"], ["foci", "focus"],
]);

/**
 * Corpus-aware plural folding: "states" -> "state", "galaxies" -> "galaxy", "processes" ->
 * "process", each to the candidate singular (-s; -es after s/x/z/ch/sh/o; -ies -> -y) that
 * occurs most in the corpus, and only if it occurs at least a tenth as often as the plural:
 * so "analysis", "physics" or "lens" (beside a stray "len") stay. A few irregular plurals
 * ("matrices", "spectra") fold when their singular occurs at all. A stemmer would merge more
 * but makes top words unreadable ("galaxi", "quantiti").
 */
export function foldPlurals(docs: string[][]): string[][] {
  const frequency = new Map<string, number>();
  for (const doc of docs) for (const token of doc) frequency.set(token, (frequency.get(token) ?? 0) + 1);
  const singular = new Map<string, string>();
  for (const [word, count] of frequency) {
    const irregular = IRREGULAR_PLURALS.get(word);
    if (irregular !== undefined && frequency.has(irregular)) singular.set(word, irregular);
    if (irregular !== undefined || word.includes(" ") || !word.endsWith("s") || word.endsWith("ss")) continue;
    const candidates = [word.slice(0, -1)];
    if (/(?:[sxzo]|ch|sh)es$/.test(word)) candidates.push(word.slice(0, -2));
    if (word.endsWith("ies")) candidates.push(word.slice(0, -3) + "y");
    let best: string | undefined;
    let bestCount = 0;
    for (const candidate of candidates) {
      const n = candidate.length >= 3 ? (frequency.get(candidate) ?? 0) : 0;
      if (n > bestCount) [best, bestCount] = [candidate, n];
    }
    if (best !== undefined && bestCount * 10 >= count) singular.set(word, best);
  }
  return docs.map((doc) => doc.map((token) => singular.get(token) ?? token));
}

/** Terms kept by the document-frequency thresholds, sorted alphabetically. */
export function buildVocabulary(docs: string[][], options: VocabularyOptions = {}): string[] {
  const minDocFreq = options.minDocFreq ?? 5;
  const maxDocs = (options.maxDocFraction ?? 0.5) * docs.length;
  const docFreq = new Map<string, number>();
  for (const doc of docs) {
    for (const term of new Set(doc)) docFreq.set(term, (docFreq.get(term) ?? 0) + 1);
  }
  const vocab: string[] = [];
  for (const [term, df] of docFreq) if (df >= minDocFreq && df <= maxDocs) vocab.push(term);
  // Code-unit order, not localeCompare: identical on every machine and locale.
  return vocab.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Counts of each vocabulary term in each document; terms outside `vocab` are ignored. */
export function documentTermMatrix(docs: string[][], vocab: string[]): DocTermMatrix {
  const termId = new Map(vocab.map((term, id) => [term, id] as const));
  const indptr = new Int32Array(docs.length + 1);
  const indices: number[] = [];
  const counts: number[] = [];
  for (const [d, doc] of docs.entries()) {
    const row = new Map<number, number>();
    for (const token of doc) {
      const id = termId.get(token);
      if (id !== undefined) row.set(id, (row.get(id) ?? 0) + 1);
    }
    for (const id of [...row.keys()].sort((a, b) => a - b)) {
      indices.push(id);
      counts.push(row.get(id)!);
    }
    indptr[d + 1] = indices.length;
  }
  return {
    nDocs: docs.length,
    nTerms: vocab.length,
    vocab,
    indptr,
    indices: Int32Array.from(indices),
    counts: Int32Array.from(counts),
  };
}

/** tokenize + foldPlurals + buildVocabulary + documentTermMatrix over raw texts. */
export function vectorize(texts: string[], options: VectorizeOptions = {}): DocTermMatrix {
  let docs = texts.map((text) => tokenize(text, options));
  if (options.foldPlurals ?? true) docs = foldPlurals(docs);
  return documentTermMatrix(docs, buildVocabulary(docs, options));
}

/** The sub-matrix of the given rows (in that order), sharing the vocabulary. */
export function selectRows(dtm: DocTermMatrix, rows: readonly number[]): DocTermMatrix {
  const ranges = rows.map((row) => rowRange(dtm, row));
  const nnz = ranges.reduce((n, [start, end]) => n + end - start, 0);
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const counts = new Int32Array(nnz);
  let at = 0;
  ranges.forEach(([start, end], i) => {
    indices.set(dtm.indices.slice(start, end), at);
    counts.set(dtm.counts.slice(start, end), at);
    at += end - start;
    indptr[i + 1] = at;
  });
  return { nDocs: rows.length, nTerms: dtm.nTerms, vocab: dtm.vocab, indptr, indices, counts };
}

/** Document d's terms and how often each occurs, term ids ascending. */
export function* termCounts(dtm: DocTermMatrix, d: number): Generator<[term: number, count: number]> {
  const [start, end] = rowRange(dtm, d);
  for (let j = start; j < end; j++) yield [dtm.indices[j]!, dtm.counts[j]!];
}

// Where document d's entries are in `indices` and `counts`: from indptr[d] to indptr[d + 1].
function rowRange(dtm: DocTermMatrix, d: number): [start: number, end: number] {
  return [dtm.indptr[d]!, dtm.indptr[d + 1]!];
}
