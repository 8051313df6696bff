/**
 * foreach inside foreach (flows/NestedForeachFlow.ts): one task per element at each level,
 * `this.input`/`this.index` per split, inner and outer joins in index order; and the
 * foreach errors: an artifact that is not an array, more splits than --max-num-splits.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Run } from "../src/index.js";
import { describeResult, exampleFlow, fixtureFlow, readRun, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

const ROWS = [[1, 2, 3], [4, 5], [6, 7, 8, 9]]; // the test-mode table

describe("NestedForeachFlow", () => {
  let run: Run;
  before(async () => {
    const result = await runFlowCli(exampleFlow("NestedForeachFlow.ts"), ["--scale", "100"], store);
    assert.equal(result.code, 0, describeResult(result));
    run = await readRun(`NestedForeachFlow/${result.runId}`, store);
  });

  test("one task per row, one per cell, one inner join per row", async () => {
    const counts = Object.fromEntries(await Promise.all((await run.steps()).map(async (s) => [s.name, (await s.tasks()).length])));
    assert.deepEqual(counts, { start: 1, eachRow: 3, eachCell: 9, joinRow: 3, joinTable: 1, end: 1 });
  });

  test("the outer join rebuilds the table in index order", async () => {
    const data = await run.data();
    assert.deepEqual(data.table, ROWS.map((row) => row.map((v) => v * 100)));
    assert.deepEqual(data.rowOrder, [0, 1, 2]);
    assert.deepEqual(data.positions, ["0.0", "0.1", "0.2", "1.0", "1.1", "2.0", "2.1", "2.2", "2.3"]);
  });

  test("each split sees its own this.input and this.index", async () => {
    const rows = await (await run.step("eachRow")).tasks();
    assert.deepEqual(rows.map((t) => t.index), [0, 1, 2]);
    assert.deepEqual(await Promise.all(rows.map((t) => t.artifact("cells"))), ROWS);
    assert.deepEqual(await Promise.all(rows.map((t) => t.artifact("row"))), [0, 1, 2]);
    const cells = await (await run.step("eachCell")).tasks();
    const seen = await Promise.all(cells.map(async (t) => [await t.artifact<string>("position"), t.index, await t.artifact<number>("value")] as const));
    const expected = ROWS.flatMap((row, r) => row.map((v, c) => [`${r}.${c}`, c, v * 100] as const));
    assert.deepEqual([...seen].sort(), [...expected].sort());
  });

  test("each inner join holds its row's cells in index order", async () => {
    const joins = await (await run.step("joinRow")).tasks();
    const byRow = new Map(await Promise.all(joins.map(async (t) => [await t.artifact<number>("row"), await t.artifact<number[]>("rowValues")] as const)));
    assert.deepEqual([...byRow.keys()].sort(), [0, 1, 2]);
    for (const [row, values] of byRow) assert.deepEqual(values, ROWS[row]!.map((v) => v * 100));
  });

  test("Step.tasks() lists the cells of a nested foreach in (row, cell) order", async () => {
    const cells = await (await run.step("eachCell")).tasks();
    const positions = await Promise.all(cells.map((t) => t.artifact<string>("position")));
    assert.deepEqual(positions, ["0.0", "0.1", "0.2", "1.0", "1.1", "2.0", "2.1", "2.2", "2.3"]);
  });
});

describe("foreach errors", { concurrency: true }, () => {
  test("a foreach over something that is not an array fails the step with exit 1", async () => {
    const result = await runFlowCli(fixtureFlow("foreach-errors.ts"), ["--mode", "not-array"], store);
    assert.equal(result.code, 1, describeResult(result));
    const run = await readRun(`ForeachErrorsFlow/${result.runId}`, store);
    const start = await (await run.step("start")).task();
    assert.equal(start.successful, false);
    assert.match(start.exception!.message, /foreach over 'items', which is a string, not an array/);
    assert.match(result.stderr, /foreach over 'items', which is a string, not an array/);
    await assert.rejects(run.step("body"), /has no tasks/);
  });

  test("a foreach with more items than --max-num-splits fails before any split runs", async () => {
    const result = await runFlowCli(fixtureFlow("foreach-errors.ts"), ["--mode", "five-items", "--max-num-splits", "3"], store);
    assert.equal(result.code, 1, describeResult(result));
    const run = await readRun(`ForeachErrorsFlow/${result.runId}`, store);
    const start = await (await run.step("start")).task();
    assert.match(start.exception!.message, /foreach over 'items' would make 5 splits, more than --max-num-splits 3/);
    assert.match(result.stderr, /more than --max-num-splits 3/);
    await assert.rejects(run.step("body"), /has no tasks/);
  });
});
