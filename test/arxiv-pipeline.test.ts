import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { cleanAbstracts, loadAbstracts, type ArxivRecord } from "../flows/arxiv/load.js";
import {
  fitAndScore, parseTopicCounts, pickBest, prepareCorpus, summariseModel, type Corpus, type FitResult,
} from "../flows/arxiv/pipeline.js";

// Everything a step stores must be plain data: no class instances, functions or cycles.
function assertPlainData(value: unknown, path = "value"): void {
  if (value === null || ["string", "number", "boolean", "undefined"].includes(typeof value)) return;
  assert.equal(typeof value, "object", `${path} is a ${typeof value}`);
  if (ArrayBuffer.isView(value)) return;
  const proto = Object.getPrototypeOf(value);
  assert.ok(proto === Object.prototype || proto === Array.prototype, `${path} is a ${proto?.constructor?.name}`);
  for (const [key, child] of Object.entries(value as object)) assertPlainData(child, `${path}.${key}`);
}

describe("the flow's pipeline on the 200-abstract test sample", () => {
  let abstracts: ArxivRecord[];
  let corpus: Corpus;
  let fits: FitResult[];
  before(async () => {
    abstracts = cleanAbstracts(await loadAbstracts({ testMode: true })).abstracts;
    corpus = prepareCorpus(abstracts, { seed: 1 });
    fits = [3, 5].map((k) => fitAndScore(corpus, { k, iterations: 30, seed: 1 }));
  });

  it("builds a matrix over every abstract and a 20% held-out split", () => {
    assert.equal(corpus.dtm.nDocs, abstracts.length);
    assert.equal(corpus.split.heldOut.length, Math.round(abstracts.length * 0.2));
    assert.ok(corpus.dtm.nTerms > 500, `only ${corpus.dtm.nTerms} terms`);
  });

  it("scores every k with finite coherence and picks the highest NPMI", () => {
    for (const { row } of fits) assert.ok([row.npmi, row.umass, row.logLikelihood].every(Number.isFinite));
    const best = pickBest(fits);
    assert.equal(best.row.npmi, Math.max(...fits.map((f) => f.row.npmi)));
  });

  it("summarises the chosen model: top words, a mixture per abstract, a report", () => {
    const best = pickBest(fits);
    const summary = summariseModel(abstracts, corpus, best, fits.map((f) => f.row));
    assert.equal(summary.topics.length, best.model.k);
    assert.ok(summary.topics.every((words) => words.length === 10));
    assert.equal(summary.docTopics.length, abstracts.length);
    for (const row of summary.docTopics) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.match(summary.report, /coherence measured on 40 held-out abstracts/);
    assert.match(summary.report, /<- chosen/);
    assertPlainData(summary, "summary");
    assertPlainData(best, "fit");
    assertPlainData(corpus, "corpus");
  });
});

describe("parseTopicCounts", () => {
  it("accepts a list, a JSON list, a comma list or a single number", () => {
    assert.deepEqual(parseTopicCounts([5, 10, 20]), [5, 10, 20]);
    assert.deepEqual(parseTopicCounts("[5, 10]"), [5, 10]);
    assert.deepEqual(parseTopicCounts("5, 10,20"), [5, 10, 20]);
    assert.deepEqual(parseTopicCounts(8), [8]);
    assert.deepEqual(parseTopicCounts([5, 5, 10]), [5, 10]);
  });

  it("rejects anything else with the value in the message", () => {
    for (const bad of ["", "5,x", "5,,10", "[5, x", [], [1], [2.5], { k: 5 }, null]) {
      assert.throws(() => parseTopicCounts(bad), /topic-counts must be integers >= 2/);
    }
  });
});
