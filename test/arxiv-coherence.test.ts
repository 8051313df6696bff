import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { npmiCoherence, scoreCoherence, topTermIds, umassCoherence } from "../flows/arxiv/coherence.js";
import { documentTermMatrix } from "../flows/arxiv/tokenize.js";

// Reference corpus, N = 4 documents:
//   d1: apple banana   d2: apple banana cherry   d3: cherry date   d4: date
// D(apple) = D(banana) = D(cherry) = D(date) = 2, D(elder) = 0
// D(apple, banana) = 2, D(apple, cherry) = 1, D(banana, cherry) = 1, D(apple, date) = 0
const VOCAB = ["apple", "banana", "cherry", "date", "elder"];
const [APPLE, BANANA, CHERRY, DATE, ELDER] = [0, 1, 2, 3, 4];
const REFERENCE = documentTermMatrix(
  [["apple", "banana"], ["apple", "banana", "cherry"], ["cherry", "date"], ["date"]],
  VOCAB,
);
const close = (actual: number | undefined, expected: number, digits = 6) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 10 ** -digits, `${actual} is not ${expected}`);

describe("NPMI (document co-occurrence)", () => {
  it("is 1 for words that always occur together", () => {
    // P(a,b) = 2/4, P(a) = P(b) = 2/4: log(0.5 / 0.25) / -log(0.5) = log 2 / log 2 = 1
    close(npmiCoherence([[APPLE, BANANA]], REFERENCE).mean, 1);
  });

  it("is 0 for words that co-occur exactly as often as chance", () => {
    // P(a,c) = 1/4 = P(a) P(c): log(0.25 / 0.25) / -log(0.25) = 0
    close(npmiCoherence([[APPLE, CHERRY]], REFERENCE).mean, 0);
  });

  it("is about -0.95 for words that never co-occur (epsilon 1e-12)", () => {
    // log(1e-12 / 0.25) / -log(1e-12) = (-27.631021 + 1.386294) / 27.631021 = -0.949829
    close(npmiCoherence([[APPLE, DATE]], REFERENCE).mean, -0.949829);
  });

  it("averages over all pairs of a topic, and over topics for the model", () => {
    // pairs (apple,banana) 1, (apple,cherry) 0, (banana,cherry): P = 1/4 = 0.5 * 0.5 -> 0
    const score = npmiCoherence([[APPLE, BANANA, CHERRY], [APPLE, DATE]], REFERENCE);
    close(score.perTopic[0], 1 / 3);
    close(score.perTopic[1], -0.949829);
    close(score.mean, (1 / 3 - 0.949829) / 2);
  });

  it("gives -1 to a pair with a word absent from the reference documents", () => {
    assert.equal(npmiCoherence([[APPLE, ELDER]], REFERENCE).mean, -1);
  });

  it("gives 1 (not the -1 epsilon would produce) to words present in every document", () => {
    const everywhere = documentTermMatrix([["apple", "banana"], ["banana", "apple"]], VOCAB);
    assert.equal(npmiCoherence([[APPLE, BANANA]], everywhere).mean, 1);
  });
});

describe("UMass", () => {
  it("conditions each word on the higher-ranked ones: log((D(wi,wj) + 1) / D(wj))", () => {
    // log((2 + 1) / 2) = 0.405465
    close(umassCoherence([[APPLE, BANANA]], REFERENCE).mean, Math.log(1.5));
    // log((1 + 1) / 2) = 0
    close(umassCoherence([[APPLE, CHERRY]], REFERENCE).mean, 0);
    // log((0 + 1) / 2) = -0.693147
    close(umassCoherence([[APPLE, DATE]], REFERENCE).mean, -0.693147);
  });

  it("is the mean over the N(N-1)/2 pairs", () => {
    // (banana|apple) log(3/2), (cherry|apple) log(2/2), (cherry|banana) log(2/2) -> 0.405465 / 3
    close(umassCoherence([[APPLE, BANANA, CHERRY]], REFERENCE).mean, 0.135155);
  });

  it("gives log(1/N) to a pair with a word absent from the reference documents", () => {
    close(umassCoherence([[APPLE, ELDER]], REFERENCE).mean, Math.log(1 / 4));
  });
});

describe("scoreCoherence", () => {
  it("is finite for any topic, even on an empty reference set", () => {
    const empty = documentTermMatrix([], VOCAB);
    const scores = scoreCoherence([[APPLE, BANANA, ELDER], [DATE]], empty);
    for (const value of [scores.npmi.mean, scores.umass.mean, ...scores.npmi.perTopic, ...scores.umass.perTopic]) {
      assert.ok(Number.isFinite(value));
    }
    assert.equal(scores.referenceDocs, 0);
    assert.equal(scores.topN, 3);
  });
});

describe("topTermIds", () => {
  it("ranks terms by probability, ties by lower id", () => {
    assert.deepEqual(topTermIds([[0.1, 0.5, 0.4], [0.25, 0.25, 0.5]], 2), [[1, 2], [2, 0]]);
  });
});
