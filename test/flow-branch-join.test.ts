/**
 * Static branches and joins (flows/BranchJoinFlow.ts): both branches run, the join reads
 * them by name and in order, mergeArtifacts copies what they agree on (include/exclude)
 * and fails naming what they do not; the actual `this.next` must match the graph.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Run } from "../src/index.js";
import { describeResult, exampleFlow, fixtureFlow, readRun, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

describe("BranchJoinFlow", () => {
  let run: Run;
  before(async () => {
    const result = await runFlowCli(exampleFlow("BranchJoinFlow.ts"), [], store);
    assert.equal(result.code, 0, describeResult(result));
    run = await readRun(`BranchJoinFlow/${result.runId}`, store);
  });

  test("both branches ran once each, from one start", async () => {
    const counts = Object.fromEntries(await Promise.all((await run.steps()).map(async (s) => [s.name, (await s.tasks()).length])));
    assert.deepEqual(counts, { start: 1, evens: 1, odds: 1, combine: 1, average: 1, spread: 1, summarize: 1, end: 1 });
    assert.equal(await (await (await run.step("evens")).task()).artifact("total"), 2 + 4 + 6);
    assert.equal(await (await (await run.step("odds")).task()).artifact("total"), 1 + 3 + 5);
  });

  test("the join reads each branch by name (inputs.evens.total) and in order", async () => {
    const combine = await (await run.step("combine")).task();
    assert.deepEqual(await combine.artifact("totals"), { evens: 12, odds: 9 });
    assert.deepEqual(await combine.artifact("sides"), ["evens", "odds"]);
  });

  test("mergeArtifacts with exclude copies what the branches agree on and skips the rest", async () => {
    const combine = await (await run.step("combine")).task();
    const names = combine.artifactNames();
    for (const merged of ["numbers", "unit", "label", "evensOnly"]) assert.ok(names.includes(merged), `${merged} merged: ${names}`);
    for (const excluded of ["total", "side"]) assert.ok(!names.includes(excluded), `${excluded} excluded: ${names}`);
    assert.deepEqual(await combine.artifact("numbers"), [1, 2, 3, 4, 5, 6]);
    assert.equal(await combine.artifact("label"), "sum by parity");
    assert.equal(await combine.artifact("evensOnly"), true); // present in only one branch
    // Merged by reference: the same content as the branch's own artifact.
    const evens = await (await run.step("evens")).task();
    assert.equal(combine.metadata.artifacts!.label!.hash, evens.metadata.artifacts!.label!.hash);
  });

  test("mergeArtifacts with include copies only the names given", async () => {
    const summarize = await (await run.step("summarize")).task();
    assert.deepEqual(await summarize.artifact("stats"), { average: 21 / 6, spread: 5 });
    const names = summarize.artifactNames().filter((n) => !["testMode", "size"].includes(n)).sort();
    assert.deepEqual(names, ["label", "stats", "totals", "unit"]);
  });

  test("the end step sees the merged artifacts and the parameters", async () => {
    const data = await run.data();
    assert.deepEqual(data.totals, { evens: 12, odds: 9 });
    assert.equal(data.unit, "points");
    assert.equal(data.testMode, true);
    assert.equal(data.size, 6);
    assert.equal("numbers" in data, false);
    assert.match(await (await run.endTask()).stdout(), /evens 12 points, odds 9 points/);
  });
});

test("mergeArtifacts fails naming every artifact that differs across the inputs", async () => {
  const result = await runFlowCli(fixtureFlow("merge-conflict.ts"), [], store);
  assert.equal(result.code, 1, describeResult(result));
  const run = await readRun(`MergeConflictFlow/${result.runId}`, store);
  assert.equal(run.successful, false);
  const join = await (await run.step("join")).task();
  assert.equal(join.successful, false);
  assert.equal(join.exception?.name, "ArtifactError");
  assert.match(join.exception!.message, /mergeArtifacts: 'score', 'color' differ across the join's inputs/);
  assert.doesNotMatch(join.exception!.message, /shared/);
  assert.match(result.stderr, /'score', 'color' differ/);
});

test("a step whose actual this.next differs from the static graph fails naming both", async () => {
  const result = await runFlowCli(fixtureFlow("next-mismatch.ts"), [], store);
  assert.equal(result.code, 1, describeResult(result));
  const run = await readRun(`NextMismatchFlow/${result.runId}`, store);
  const start = await (await run.step("start")).task();
  assert.equal(start.successful, false);
  assert.equal(start.exception?.name, "TransitionError");
  assert.match(start.exception!.message, /called this\.next\(this\.right\) but the flow's graph says this\.next\(this\.left\)/);
  assert.match(result.stderr, /this\.next\(this\.right\).*this\.next\(this\.left\)/);
  await assert.rejects(run.step("left"), /has no tasks/);
});
