/**
 * Two `flowrun run` processes of the same flow, started together on the same local
 * datastore, do not interfere: both succeed, their run IDs differ, the client lists both,
 * and each run's artifacts are its own (each run gets a different `--label`, and every
 * artifact is stamped with the label and the run ID the task saw).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { Flow } from "../src/index.js";
import { describeResult, inNamespace, readRun, REPO, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

const FLOW = `${REPO}test/fixtures/faults/LabelledFlow.ts`;

test("two runs of one flow at the same time on one datastore keep to themselves", async () => {
  const wanted = [
    { label: "alpha", splits: 4 },
    { label: "beta", splits: 6 },
  ];
  const results = await Promise.all(
    wanted.map(({ label, splits }) => runFlowCli(FLOW, ["--label", label, "--splits", String(splits), "--sleep-ms", "300"], store)),
  );
  for (const result of results) assert.equal(result.code, 0, describeResult(result));
  const [a, b] = results.map((r) => r.runId);
  assert.ok(a && b && a !== b, `run IDs ${a} and ${b}`);

  const listed = await inNamespace(null, () => new Flow("LabelledFlow", { datastore: store.datastore }).runs());
  assert.deepEqual(listed.map((r) => r.id).sort(), [a, b].sort(), "the client lists both runs");
  assert.ok(listed.every((r) => r.successful));

  const runs = await Promise.all(results.map((r) => readRun(`LabelledFlow/${r.runId}`, store)));
  // They really ran at the same time: each started before the other finished.
  assert.ok(runs[0]!.createdAt < runs[1]!.finishedAt! && runs[1]!.createdAt < runs[0]!.finishedAt!, "the runs overlapped");

  for (const [i, run] of runs.entries()) {
    const { label, splits } = wanted[i]!;
    assert.equal(run.parameters.label, label);
    const stamps = Array.from({ length: splits }, (_, k) => `${label}/${run.id}/${k}`);
    assert.deepEqual(await run.artifact("stamps"), stamps);
    const body = await (await run.step("body")).tasks();
    assert.equal(body.length, splits);
    assert.deepEqual(await Promise.all(body.map((t) => t.artifact("stamp"))), stamps);
    assert.ok(body.every((t) => t.pathspec.startsWith(`${run.pathspec}/`)));
  }
});
