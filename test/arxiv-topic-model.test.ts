import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mulberry32 } from "../flows/arxiv/random.js";
import { fitTopicModel, inferDocTopics, logGamma, mergeDocTopics } from "../flows/arxiv/topic-model.js";
import { documentTermMatrix, type DocTermMatrix } from "../flows/arxiv/tokenize.js";

// Two obvious topics: documents 0-19 draw 25 words from SPACE only, 20-39 from QUANTUM only.
const SPACE = ["galaxy", "star", "orbit", "planet", "comet"];
const QUANTUM = ["qubit", "spin", "photon", "entangle", "decohere"];
const VOCAB = [...SPACE, ...QUANTUM].sort();

function syntheticCorpus(nDocs: number, seed: number): DocTermMatrix {
  const random = mulberry32(seed);
  const docs = Array.from({ length: nDocs }, (_, d) => {
    const words = d < nDocs / 2 ? SPACE : QUANTUM;
    return Array.from({ length: 25 }, () => words[Math.floor(random() * words.length)]!);
  });
  return documentTermMatrix(docs, VOCAB);
}

const CORPUS = syntheticCorpus(40, 7);
// Topic t's share of a document; NaN (failing any comparison) if the row or topic is missing.
const share = (theta: number[] | undefined, t: number) => theta?.[t] ?? NaN;
const assertRowsSumToOne = (rows: ArrayLike<number>[]) => {
  for (const row of rows) {
    const sum = Array.from(row).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, `row sums to ${sum}`);
  }
};

describe("fitTopicModel (collapsed Gibbs LDA)", () => {
  it("is deterministic: the same seed and data give an identical model", () => {
    const a = fitTopicModel(CORPUS, { k: 3, iterations: 30, seed: 11 });
    const b = fitTopicModel(CORPUS, { k: 3, iterations: 30, seed: 11 });
    assert.deepEqual(a, b);
    const c = fitTopicModel(CORPUS, { k: 3, iterations: 30, seed: 12 });
    assert.notDeepEqual(a.docTopic, c.docTopic);
  });

  it("returns row-normalised topic-word and document-topic distributions", () => {
    const model = fitTopicModel(CORPUS, { k: 4, iterations: 20, seed: 1 });
    assert.equal(model.topicWord.length, 4);
    assert.equal(model.docTopic.length, CORPUS.nDocs);
    assert.ok(model.topicWord.every((row) => row.length === VOCAB.length));
    assertRowsSumToOne(model.topicWord);
    assertRowsSumToOne(model.docTopic);
    assert.equal(model.topicTokens.reduce((a, b) => a + b, 0), 40 * 25);
    assert.ok(Number.isFinite(model.logLikelihood));
  });

  it("separates two obvious topics", () => {
    const model = fitTopicModel(CORPUS, { k: 2, iterations: 100, seed: 3 });
    const top5 = model.topicWord.map((row) =>
      row.map((p, id) => ({ p, word: VOCAB[id] })).sort((x, y) => y.p - x.p).slice(0, 5).map(({ word }) => word).sort(),
    );
    const space = top5[0]?.includes("galaxy") ? 0 : 1;
    const quantum = 1 - space;
    assert.deepEqual(top5[space], [...SPACE].sort());
    assert.deepEqual(top5[quantum], [...QUANTUM].sort());
    model.docTopic.forEach((theta, d) => assert.ok(share(theta, d < 20 ? space : quantum) > 0.9, `document ${d}: ${theta}`));
  });

  it("handles documents with no tokens (uniform mixture)", () => {
    const dtm = documentTermMatrix([["galaxy", "star"], []], VOCAB);
    const model = fitTopicModel(dtm, { k: 2, iterations: 5, seed: 1 });
    assert.deepEqual(model.docTopic[1], [0.5, 0.5]);
  });

  it("rejects a bad k or seed", () => {
    assert.throws(() => fitTopicModel(CORPUS, { k: 0 }), /k must be a positive integer/);
    assert.throws(() => fitTopicModel(CORPUS, { k: 2, seed: 0.5 }), /seed must be an integer/);
  });
});

describe("inferDocTopics (fold-in)", () => {
  it("assigns unseen documents to the topic their words belong to, deterministically", () => {
    const model = fitTopicModel(CORPUS, { k: 2, iterations: 100, seed: 3 });
    const galaxy = model.topicWord.map((row) => row[VOCAB.indexOf("galaxy")] ?? 0);
    const space = galaxy.indexOf(Math.max(...galaxy)); // the topic where "galaxy" is most probable
    const unseen = documentTermMatrix([["star", "planet", "orbit", "star"], ["qubit", "spin", "photon"]], VOCAB);
    const theta = inferDocTopics(model, unseen, { seed: 5 });
    assertRowsSumToOne(theta);
    assert.ok(share(theta[0], space) > 0.9);
    assert.ok(share(theta[1], 1 - space) > 0.9);
    assert.deepEqual(inferDocTopics(model, unseen, { seed: 5 }), theta);
  });

  it("mergeDocTopics puts training and held-out rows back in corpus order", () => {
    const merged = mergeDocTopics({ train: [0, 2], heldOut: [1] }, [[1, 0], [0.5, 0.5]], [[0, 1]]);
    assert.deepEqual(merged, [[1, 0], [0, 1], [0.5, 0.5]]);
  });
});

describe("logGamma", () => {
  it("matches known values", () => {
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
    close(logGamma(1), 0);
    close(logGamma(5), Math.log(24));
    close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)));
    // reference values: Python's math.lgamma
    close(logGamma(0.01), 4.599479878042022);
    close(logGamma(1000.5), 5908.674175848678);
  });
});
