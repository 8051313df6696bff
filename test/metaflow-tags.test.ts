// Follows Metaflow's test/core/tests/basic_tags.py, project_branch.py and
// project_production.py: a run carries its user's tags and the system tags `user:`,
// `project:` and `project_branch:<branch>` (the branch without the project name), and each
// of them is a namespace that finds the run.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { Flow } from "../src/index.js";
import { describeResult, inNamespace, readRun, REPO, runFlowCli, tempDatastore, type FlowRunResult } from "./support/flowrun-cli.js";

const FLOW = join(REPO, "test/fixtures/metaflow/tags-flow.ts");
const USER = { FLOWRUN_USER: "tester" };
const TAGS = ["刺身 means sashimi", "multiple tags should be ok"];
const store = tempDatastore();
after(() => store.remove());

const runs: Record<"user" | "branch" | "production" | "productionBranch", FlowRunResult> = {} as never;
before(async () => {
  const [user, branch, production, productionBranch] = await Promise.all([
    runFlowCli(FLOW, TAGS.flatMap((tag) => ["--tag", tag]), store, { env: USER }),
    runFlowCli(FLOW, ["--branch", "this_is_a_test_branch"], store, { env: USER }),
    runFlowCli(FLOW, ["--production"], store, { env: USER }),
    runFlowCli(FLOW, ["--production", "--branch", "x"], store, { env: USER }),
  ]);
  Object.assign(runs, { user, branch, production, productionBranch });
  for (const result of Object.values(runs)) assert.equal(result.code, 0, describeResult(result));
});

const flowRunIds = (ns: string | null) =>
  inNamespace(ns, async () => (await new Flow("BasicTagFlow", { datastore: store.datastore }).runs()).map((r) => r.id).sort());

test("every tag of a run, system or user, is a namespace that finds it", async () => {
  const tags = ["project:basic_tag", "project_branch:user.tester", "user:tester", ...TAGS];
  const run = await readRun(`BasicTagFlow/${runs.user.runId}`, store);
  assert.deepEqual([...run.tags].sort(), [...tags].sort());
  for (const tag of tags) assert.ok((await flowRunIds(tag)).includes(runs.user.runId), `namespace(${JSON.stringify(tag)})`);
  assert.deepEqual(await flowRunIds("project_branch:user.tester"), [runs.user.runId]);
});

test("inside a step, the client's namespace is the user's", async () => {
  const start = await (await (await readRun(`BasicTagFlow/${runs.user.runId}`, store)).step("start")).task();
  assert.equal(((await start.artifact("seen")) as Record<string, unknown>).clientNamespace, "user:tester");
});

test("--branch, --production and both: the branch, its tag and the project flow name", async () => {
  const expected = {
    user: "user.tester",
    branch: "test.this_is_a_test_branch",
    production: "prod",
    productionBranch: "prod.x",
  };
  for (const [which, branch] of Object.entries(expected)) {
    const run = await readRun(`BasicTagFlow/${runs[which as keyof typeof runs].runId}`, store);
    assert.ok(run.tags.includes(`project_branch:${branch}`), `${which}: ${run.tags.join(", ")}`);
    assert.equal(run.tags.includes("runtime:production"), which.startsWith("production"), `${which}: ${run.tags.join(", ")}`);
    const seen = (await (await (await run.step("start")).task()).artifact("seen")) as Record<string, unknown>;
    assert.equal(seen.branchName, branch);
    assert.equal(seen.projectFlowName, `basic_tag.${branch}.BasicTagFlow`);
  }
  assert.deepEqual(await flowRunIds("project_branch:prod"), [runs.production.runId]);
  assert.deepEqual(await flowRunIds("project:basic_tag"), Object.values(runs).map((r) => r.runId).sort());
});
