/**
 * Follows Metaflow's test/core/tests/merge_artifacts.py, merge_artifacts_include.py and
 * merge_artifacts_propagation.py: `this.mergeArtifacts(inputs)` copies what the inputs agree
 * on (or what only one of them has), leaves what the join set alone, and when it throws
 * (values that differ, `include` naming what no input has, `include` with `exclude`, a call
 * outside a join) it has copied nothing. One run of test/fixtures/metaflow/MergeArtifactsFlow.ts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Run, Task } from "../src/index.js";
import { describeResult, readRun, REPO, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

type Call = { error: string | null; present: string[] };

describe("mergeArtifacts (MergeArtifactsFlow)", () => {
  let run: Run;
  let mergeThings: Task;
  let calls: Call[];
  before(async () => {
    const result = await runFlowCli(join(REPO, "test/fixtures/metaflow/MergeArtifactsFlow.ts"), [], store);
    assert.equal(result.code, 0, describeResult(result));
    run = await readRun(`MergeArtifactsFlow/${result.runId}`, store);
    mergeThings = await (await run.step("mergeThings")).task();
    calls = await mergeThings.artifact<Call[]>("calls");
  });

  test("values that differ fail naming them, and nothing was copied", () => {
    const [conflict] = calls;
    assert.match(conflict!.error ?? "", /^ArtifactError: mergeArtifacts: /);
    assert.match(conflict!.error!, /'manualMergeRequired'/);
    assert.match(conflict!.error!, /'ignoreMe'/);
    assert.doesNotMatch(conflict!.error!, /nonModifiedPassdown|modifiedToSameValue/);
    assert.deepEqual(conflict!.present, []);
  });

  test("include together with exclude is an error, and nothing was copied", () => {
    assert.match(calls[1]!.error ?? "", /^ArtifactError: mergeArtifacts takes include or exclude, not both/);
    assert.deepEqual(calls[1]!.present, []);
  });

  test("include naming an artifact no input has is an error, and nothing was copied", () => {
    assert.match(calls[2]!.error ?? "", /^ArtifactError: .*'foobar'/);
    assert.doesNotMatch(calls[2]!.error!, /manualMergeRequired/, "set in the join, so not missing");
    assert.deepEqual(calls[2]!.present, ["manualMergeRequired"]);
  });

  test("a merge copies equal values, skips excluded names and leaves what the join set alone", async () => {
    assert.deepEqual(calls[3], { error: null, present: ["nonModifiedPassdown", "modifiedToSameValue", "manualMergeRequired"] });
    assert.equal(await mergeThings.artifact("nonModifiedPassdown"), "a");
    assert.equal(await mergeThings.artifact("modifiedToSameValue"), "e");
    assert.equal(await mergeThings.artifact("manualMergeRequired"), mergeThings.id);
    assert.ok(!mergeThings.artifactNames().includes("ignoreMe"));
  });

  test("artifacts each set by one foreach split are all merged (propagation)", async () => {
    const data = await run.data();
    assert.deepEqual([data.var0, data.var1, data.var2], [0, 1, 2]);
    assert.equal(data.nonModifiedPassdown, "a");
  });

  test("a call outside a join step is an error", async () => {
    assert.match((await run.data()).outsideJoin as string, /^ArtifactError: mergeArtifacts is only for join steps/);
  });
});
