/**
 * Every example flow behaves the same on every datastore: one suite, run once against a
 * local (LMDB) datastore and once against a bucket on a real S3-compatible server
 * (s3rver), with the same assertions read back through the same client API.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Run } from "../src/index.js";
import { describeResult, exampleFlow } from "./support/flowrun-cli.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { isolateFromAws, localStore, s3Store, useS3Server, type TestStore } from "./fixtures/s3/test-stores.js";

const scratch = isolateFromAws();
let server: S3TestServer | undefined;
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const backends: Array<{ name: string; open(): Promise<TestStore> }> = [
  { name: "local (LMDB)", open: async () => localStore() },
  {
    name: "S3 (s3rver)",
    async open() {
      server = await startS3Server();
      useS3Server(server);
      return s3Store(server, "examples");
    },
  },
];

async function taskCounts(run: Run): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all((await run.steps()).map(async (s) => [s.name, (await s.tasks()).length])));
}

async function succeeded(store: TestStore, flow: string, file: string, args: string[], user: string): Promise<Run> {
  const result = await store.run(exampleFlow(file), args, { env: { FLOWRUN_USER: user } });
  assert.equal(result.code, 0, describeResult(result));
  const run = await store.read(`${flow}/${result.runId}`);
  assert.equal(run.successful, true);
  return run;
}

for (const backend of backends) {
  describe(`example flows on ${backend.name}`, { concurrency: true }, () => {
    let store: TestStore;
    before(async () => {
      store = await backend.open();
    });
    after(() => store.remove());

    test("flows/Hello.ts: parameters, artifacts, logs and the run's tags", async () => {
      const run = await succeeded(store, "HelloFlow", "Hello.ts", ["--name", "Ada", "--times", "3"], "ada");
      assert.deepEqual(run.parameters, { name: "Ada", times: 3, "test-mode": true });
      assert.deepEqual(await taskCounts(run), { start: 1, repeat: 1, end: 1 });
      const data = await run.data();
      assert.equal(data.greeting, "Hello, Ada!");
      assert.deepEqual(data.repeated, ["Hello, Ada!", "Hello, Ada!", "Hello, Ada!"]);
      assert.equal(await (await (await run.step("repeat")).task()).artifact("who"), "Ada");
      assert.match(await (await (await run.step("start")).task()).stdout(), new RegExp(`greeting Ada in run ${run.id}`));
      assert.match(await (await run.endTask()).stdout(), /Hello, Ada! Hello, Ada! Hello, Ada!/);
      assert.deepEqual([...run.tags].sort(), ["project:hello", "project_branch:user.ada", "user:ada"]);
    });

    test("flows/BranchJoinFlow.ts: both branches, the joins and mergeArtifacts", async () => {
      const run = await succeeded(store, "BranchJoinFlow", "BranchJoinFlow.ts", [], "ada");
      assert.deepEqual(await taskCounts(run), { start: 1, evens: 1, odds: 1, combine: 1, average: 1, spread: 1, summarize: 1, end: 1 });
      const combine = await (await run.step("combine")).task();
      assert.deepEqual(await combine.artifact("totals"), { evens: 12, odds: 9 });
      assert.deepEqual(await combine.artifact("sides"), ["evens", "odds"]);
      assert.equal(await combine.artifact("evensOnly"), true);
      assert.ok(!combine.artifactNames().includes("total"), "excluded from the merge");
      const evens = await (await run.step("evens")).task();
      assert.equal(combine.metadata.artifacts!.label!.hash, evens.metadata.artifacts!.label!.hash, "merged by reference");
      const data = await run.data();
      assert.deepEqual(data.stats, { average: 21 / 6, spread: 5 });
      assert.deepEqual(data.totals, { evens: 12, odds: 9 });
      assert.equal(data.unit, "points");
      assert.equal("numbers" in data, false);
    });

    test("flows/NestedForeachFlow.ts: one task per row and per cell, joins in index order", async () => {
      const run = await succeeded(store, "NestedForeachFlow", "NestedForeachFlow.ts", ["--scale", "100"], "ada");
      const rows = [[1, 2, 3], [4, 5], [6, 7, 8, 9]];
      assert.deepEqual(await taskCounts(run), { start: 1, eachRow: 3, eachCell: 9, joinRow: 3, joinTable: 1, end: 1 });
      const data = await run.data();
      assert.deepEqual(data.table, rows.map((row) => row.map((v) => v * 100)));
      assert.deepEqual(data.rowOrder, [0, 1, 2]);
      const cells = await (await run.step("eachCell")).tasks();
      assert.deepEqual(await Promise.all(cells.map((t) => t.artifact("position"))), ["0.0", "0.1", "0.2", "1.0", "1.1", "2.0", "2.1", "2.2", "2.3"]);
      assert.deepEqual(cells.map((t) => t.index), [0, 1, 2, 0, 1, 0, 1, 2, 3]);
      assert.deepEqual(await Promise.all(cells.map((t) => t.artifact("value"))), rows.flat().map((v) => v * 100));
    });

    test("flows/SwitchFlow.ts: the loop, then only the chosen branch", async () => {
      const run = await succeeded(store, "SwitchLoopFlow", "SwitchFlow.ts", ["--batches", "3"], "ada");
      assert.deepEqual(await taskCounts(run), { start: 1, poll: 3, check: 3, route: 1, quick: 1, end: 1 });
      const checks = await (await run.step("check")).tasks();
      assert.deepEqual(await Promise.all(checks.map((t) => t.artifact("state"))), ["waiting", "waiting", "ready"]);
      await assert.rejects(run.step("thorough"), /has no tasks/);
      const data = await run.data();
      assert.deepEqual(data.polled, [1, 2, 3]);
      assert.equal(data.total, 6);
      assert.equal(data.path, "quick");
    });
  });
}
