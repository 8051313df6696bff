import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatReport, topCategories, topicPrevalence, topWords, type CategoryShare } from "../flows/arxiv/report.js";
import { splitHeldOut } from "../flows/arxiv/split.js";

const close = (actual: number | undefined, expected: number) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);
const shareOf = (topic: CategoryShare[] | undefined, category: string) => topic?.find((c) => c.category === category)?.share;

describe("topWords", () => {
  it("lists each topic's most probable words first", () => {
    assert.deepEqual(topWords([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]], ["spin", "star", "graph"], 2), [
      ["star", "graph"],
      ["spin", "graph"],
    ]);
  });
});

describe("topCategories", () => {
  // Topic 0 weight: doc0 0.9 (Astro), doc1 0.2 (Quant), doc2 0.5 (Astro, cross-listed Quant)
  const docTopic = [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]];
  const categories = [["Astro"], ["Quant"], ["Astro", "Quant"]];

  it("by default credits each document's topic share to its primary category", () => {
    // topic 0: Astro 0.9 + 0.5 = 1.4, Quant 0.2; total 1.6
    // topic 1: Astro 0.1 + 0.5 = 0.6, Quant 0.8; total 1.4
    const [t0, t1] = topCategories(docTopic, categories);
    assert.deepEqual(t0?.map((c) => c.category), ["Astro", "Quant"]);
    close(shareOf(t0, "Astro"), 1.4 / 1.6);
    assert.deepEqual(t1?.map((c) => c.category), ["Quant", "Astro"]);
    close(shareOf(t1, "Quant"), 0.8 / 1.4);
  });

  it("with use: 'all' splits a document's share over all its categories", () => {
    // topic 1: Astro 0.1 + 0.25 = 0.35, Quant 0.8 + 0.25 = 1.05; total 1.4
    const [, t1] = topCategories(docTopic, categories, { use: "all", n: 1 });
    assert.deepEqual(t1?.map((c) => c.category), ["Quant"]);
    close(shareOf(t1, "Quant"), 1.05 / 1.4);
  });
});

describe("topicPrevalence", () => {
  it("is the mean topic share over documents", () => {
    const [p0, p1] = topicPrevalence([[0.9, 0.1], [0.3, 0.7]], 2);
    close(p0, 0.6);
    close(p1, 0.4);
  });
});

describe("formatReport", () => {
  it("shows the coherence table, marks the chosen k, then topics by prevalence", () => {
    const report = formatReport({
      coherence: [
        { k: 2, npmi: 0.12, umass: -1.5, logLikelihood: -1000, seconds: 1.2 },
        { k: 3, npmi: 0.08, umass: -1.9, logLikelihood: -990, seconds: 2 },
      ],
      chosenK: 2,
      topics: [["graph", "tree"], ["star", "galaxy"]],
      categories: [[{ category: "Mathematics - Combinatorics", share: 0.5 }], [{ category: "Astrophysics", share: 0.75 }]],
      prevalence: [0.3, 0.7],
      npmiPerTopic: [0.1, 0.14],
      corpus: { abstracts: 100, heldOut: 20, terms: 500 },
    });
    const [firstLine = ""] = report.split("\n");
    assert.match(firstLine, /100 arXiv abstracts \(500 terms\).*20 held-out/);
    assert.match(report, /^ {3}2 {2}0\.120 {3}-1\.500 .*1\.2s {2}<- chosen/m);
    assert.doesNotMatch(report, /^ {3}3 .*chosen/m);
    assert.ok(report.indexOf("Topic 2 ") < report.indexOf("Topic 1 "), "most prevalent topic first");
    assert.match(report, /Topic 2 {2}\(70\.0% of the text, NPMI 0\.140\)\n {2}words: {6}star, galaxy\n {2}categories: Astrophysics 75%/);
  });
});

describe("splitHeldOut", () => {
  it("is a deterministic partition for a given seed", () => {
    const a = splitHeldOut(100, { fraction: 0.2, seed: 9 });
    assert.deepEqual(splitHeldOut(100, { fraction: 0.2, seed: 9 }), a);
    assert.notDeepEqual(splitHeldOut(100, { fraction: 0.2, seed: 10 }).heldOut, a.heldOut);
    assert.equal(a.heldOut.length, 20);
    assert.deepEqual([...a.train, ...a.heldOut].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(a.train, [...a.train].sort((x, y) => x - y));
  });

  it("keeps at least one document on each side", () => {
    assert.deepEqual(splitHeldOut(2, { fraction: 0.01 }).heldOut.length, 1);
    assert.deepEqual(splitHeldOut(2, { fraction: 0.99 }).train.length, 1);
    assert.deepEqual(splitHeldOut(1), { train: [0], heldOut: [] });
    assert.throws(() => splitHeldOut(10, { fraction: 1 }), /fraction must be in \(0, 1\)/);
  });
});
