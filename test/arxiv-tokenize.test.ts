import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildVocabulary, documentTermMatrix, foldPlurals, selectRows, tokenize, vectorize,
} from "../flows/arxiv/tokenize.js";

describe("tokenize", () => {
  it("lower-cases, drops stop words and academic filler, strips LaTeX math and commands", () => {
    // we/of/a: < 3 letters; show/that/the/is: stop words; $\alpha_2$: math; \emph: command.
    const text = "We show that the Quantum spin of a $\\alpha_2$ state is \\emph{robust}.";
    assert.deepEqual(tokenize(text), ["quantum", "spin", "state", "robust"]);
  });

  it("removes display math and \\( \\) math whole, keeping the words around it", () => {
    assert.deepEqual(tokenize("entropy $$S = k \\log W$$ bound \\(x^2\\) holds"), ["entropy", "bound", "holds"]);
  });

  it("keeps the letter of LaTeX accents and folds Unicode accents", () => {
    assert.deepEqual(tokenize('Schr\\"odinger equation'), ["schrodinger", "equation"]);
    assert.deepEqual(tokenize("Schrödinger équation"), ["schrodinger", "equation"]);
  });

  it("drops tokens shorter than minLength and splits on every non-letter", () => {
    // "an", "ox": 2 letters; "non" is a stop word; "3D" -> "d".
    assert.deepEqual(tokenize("An ox ate hay"), ["ate", "hay"]);
    assert.deepEqual(tokenize("An ox ate hay", { minLength: 4 }), []);
    assert.deepEqual(tokenize("non-Abelian 3D gauge-theory"), ["abelian", "gauge", "theory"]);
  });

  it("adds bigrams only for kept tokens that were adjacent in the text", () => {
    assert.deepEqual(tokenize("dark matter halo of the galaxy", { bigrams: true }), [
      "dark", "matter", "dark matter", "halo", "matter halo", "galaxy",
    ]);
  });

  it("accepts a custom stop-word list", () => {
    assert.deepEqual(tokenize("the spin chain", { stopWords: new Set(["spin"]) }), ["the", "chain"]);
  });
});

describe("foldPlurals", () => {
  it("maps a plural to a singular the corpus uses, and leaves the rest", () => {
    const docs = [["states", "galaxies"], ["state", "galaxy", "analysis", "processes", "process"]];
    assert.deepEqual(foldPlurals(docs), [["state", "galaxy"], ["state", "galaxy", "analysis", "process", "process"]]);
  });

  it("folds listed irregular plurals when the singular occurs", () => {
    assert.deepEqual(foldPlurals([["matrices", "matrix", "spectra"]]), [["matrix", "matrix", "spectra"]]);
  });

  it("does not fold into a singular used less than a tenth as often", () => {
    const docs = [[...Array(20).fill("lens"), "len"]];
    assert.deepEqual(foldPlurals(docs), docs);
  });
});

// df: spin 3, galaxy 2, lattice 2, star 2 (4 documents).
const DOCS = [["spin", "spin", "lattice"], ["spin", "galaxy"], ["galaxy", "star", "spin"], ["lattice", "star"]];

describe("buildVocabulary", () => {
  it("keeps terms within [minDocFreq, maxDocFraction * nDocs] documents, sorted", () => {
    assert.deepEqual(buildVocabulary(DOCS, { minDocFreq: 2, maxDocFraction: 1 }), ["galaxy", "lattice", "spin", "star"]);
    // 0.5 * 4 = 2 documents at most: spin (3) goes.
    assert.deepEqual(buildVocabulary(DOCS, { minDocFreq: 2, maxDocFraction: 0.5 }), ["galaxy", "lattice", "star"]);
    assert.deepEqual(buildVocabulary(DOCS, { minDocFreq: 3, maxDocFraction: 1 }), ["spin"]);
  });
});

describe("documentTermMatrix", () => {
  it("stores exact counts in CSR form, term ids ascending per row", () => {
    const vocab = ["galaxy", "lattice", "spin", "star"];
    const dtm = documentTermMatrix([...DOCS, ["unknown"]], vocab);
    assert.equal(dtm.nDocs, 5);
    assert.equal(dtm.nTerms, 4);
    // doc0: lattice 1, spin 2 | doc1: galaxy 1, spin 1 | doc2: galaxy, spin, star | doc3: lattice, star | doc4: empty
    assert.deepEqual(Array.from(dtm.indptr), [0, 2, 4, 7, 9, 9]);
    assert.deepEqual(Array.from(dtm.indices), [1, 2, 0, 2, 0, 2, 3, 1, 3]);
    assert.deepEqual(Array.from(dtm.counts), [1, 2, 1, 1, 1, 1, 1, 1, 1]);
  });

  it("selectRows takes rows in the order given, sharing the vocabulary", () => {
    const dtm = documentTermMatrix(DOCS, ["galaxy", "lattice", "spin", "star"]);
    const sub = selectRows(dtm, [2, 0]);
    assert.equal(sub.nDocs, 2);
    assert.equal(sub.vocab, dtm.vocab);
    assert.deepEqual(Array.from(sub.indptr), [0, 3, 5]);
    assert.deepEqual(Array.from(sub.indices), [0, 2, 3, 1, 2]);
    assert.deepEqual(Array.from(sub.counts), [1, 1, 1, 1, 2]);
  });
});

describe("vectorize", () => {
  it("runs tokenize, plural folding and the vocabulary thresholds end to end", () => {
    const dtm = vectorize(["Spin chains and spin states.", "A spin chain.", "Galaxies and a galaxy."], {
      minDocFreq: 2,
      maxDocFraction: 1,
    });
    // "chains" -> "chain" (folded); "states", "galaxy" are each in 1 document only.
    assert.deepEqual(dtm.vocab, ["chain", "spin"]);
    assert.deepEqual(Array.from(dtm.indptr), [0, 2, 4, 4]);
    assert.deepEqual(Array.from(dtm.counts), [1, 2, 1, 1]);
  });
});
