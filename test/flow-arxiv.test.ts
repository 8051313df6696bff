// The main job: the arXiv topic model in test mode, read back through the client API.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Runner } from "../src/index.js";

const root = mkdtempSync(join(tmpdir(), "flowrun-arxiv-"));
after(() => rmSync(root, { recursive: true, force: true }));
const runner = new Runner("flows/ArxivAbstractTopicModel.ts", { datastore: { kind: "local", root } });

test("test mode fits every topic count, picks one, and gives every abstract a topic mixture", async () => {
  const counts = [3, 6];
  const first = await runner.run({ "topic-counts": counts, iterations: 40, seed: 7 });
  assert.equal(first.successful, true);
  const topics = await first.artifact<string[][]>("topics");
  const chosen = await first.artifact<number>("k");
  assert.ok(counts.includes(chosen), `chosen k ${chosen} is one of ${counts}`);
  assert.equal(topics.length, chosen);
  for (const words of topics) assert.ok(words.length >= 5 && words.every((w) => typeof w === "string" && w.length >= 3));

  const coherence = await first.artifact<Array<{ k: number; npmi: number; umass: number }>>("coherence");
  assert.deepEqual(coherence.map((row) => row.k).sort((a, b) => a - b), counts);
  for (const row of coherence) assert.ok(Number.isFinite(row.npmi) && Number.isFinite(row.umass), JSON.stringify(row));

  const docTopics = await first.artifact<number[][]>("docTopics");
  const abstracts = await (await first.step("start")).task().then((t) => t.artifact<unknown[]>("abstracts"));
  assert.equal(docTopics.length, abstracts.length);
  for (const mixture of docTopics) {
    assert.equal(mixture.length, chosen);
    assert.ok(Math.abs(mixture.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  }
  const fits = await (await first.step("fit")).tasks();
  assert.deepEqual(fits.map((t) => t.index), [0, 1]);

  // The card: a coherence chart with a point per k tried, and a row per topic with its words.
  const card = await (await first.step("end")).task().then((t) => t.card());
  assert.deepEqual(card?.components.map((c) => c.type), ["markdown", "vegalite", "table"]);
  const [, chart, table] = card!.components;
  assert.ok(chart?.type === "vegalite" && table?.type === "table");
  assert.deepEqual((chart.spec.data as { values: Array<{ k: number }> }).values.map((v) => v.k), counts);
  assert.equal(table.rows.length, chosen);
  assert.equal(table.rows[0]![1], topics[0]!.slice(0, 10).join(", "));

  const second = await runner.run({ "topic-counts": counts, iterations: 40, seed: 7 });
  assert.deepEqual(await second.artifact("topics"), topics, "same seed, same topics");
  assert.deepEqual(await second.artifact("docTopics"), docTopics);
});
