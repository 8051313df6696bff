// Follows Metaflow's test/core/tests/current_singleton.py and param_names.py: every task
// (start, foreach body, join, end, and a resumed run's tasks) sees the right `current`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import type { Run } from "../src/index.js";
import { describeResult, readRun, REPO, runCli, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const FLOW = join(REPO, "test/fixtures/metaflow/current-flow.ts");
const USER = { FLOWRUN_USER: "tester" };
const TAGS = ["刺身 means sashimi", "multiple tags should be ok"];
const store = tempDatastore();
after(() => store.remove());

async function seenByEveryTask(run: Run): Promise<Array<Record<string, unknown>>> {
  const seen: Array<Record<string, unknown>> = [];
  for (const step of await run.steps()) {
    for (const task of await step.tasks()) seen.push((await task.artifact("seen")) as Record<string, unknown>);
  }
  return seen;
}

describe("current as in Metaflow's current_singleton", () => {
  let run: Run;
  before(async () => {
    const result = await runFlowCli(FLOW, TAGS.flatMap((tag) => ["--tag", tag]), store, { env: USER });
    assert.equal(result.code, 0, describeResult(result));
    run = await readRun(`CurrentSingletonFlow/${result.runId}`, store);
  });

  test("every task sees the run's identity, its own step and task, and the project", async () => {
    const seen = await seenByEveryTask(run);
    assert.deepEqual(seen.map((s) => s.stepName).sort(), ["body", "body", "end", "join", "start"]);
    for (const s of seen) {
      assert.equal(s.pathspec, `CurrentSingletonFlow/${run.id}/${s.stepName}/${s.taskId}`);
      assert.deepEqual(
        { ...s, stepName: undefined, taskId: undefined, pathspec: undefined },
        {
          flowName: "CurrentSingletonFlow",
          runId: run.id,
          stepName: undefined,
          taskId: undefined,
          pathspec: undefined,
          retryCount: 0,
          originRunId: null,
          isProduction: false,
          projectName: "current_singleton",
          projectFlowName: "current_singleton.user.tester.CurrentSingletonFlow",
          branchName: "user.tester",
          namespace: "user:tester",
          username: "tester",
          parameterNames: ["foo"],
          tags: TAGS,
          systemTags: ["user:tester", "project:current_singleton", "project_branch:user.tester"],
        },
        `current in ${s.pathspec}`,
      );
    }
  });

  test("a resumed run's tasks see the origin run's ID; cloned tasks keep what the origin saw", async () => {
    const resumed = await runCli(["resume", FLOW, "join", "--origin-run-id", run.id], { env: { ...store.env, ...USER } });
    assert.equal(resumed.code, 0, describeResult(resumed));
    const runId = /Run CurrentSingletonFlow\/(\S+) started/.exec(resumed.stdout)![1]!;
    const seen = await seenByEveryTask(await readRun(`CurrentSingletonFlow/${runId}`, store));
    const byStep = (step: string) => seen.filter((s) => s.stepName === step);
    for (const s of [...byStep("join"), ...byStep("end")]) {
      assert.equal(s.runId, runId);
      assert.equal(s.originRunId, run.id);
      assert.deepEqual(s.parameterNames, ["foo"]);
    }
    for (const s of [...byStep("start"), ...byStep("body")]) assert.equal(s.runId, run.id, "a cloned task's artifacts are the origin's");
  });
});

test("without @project, current has no project, branch or project flow name", async () => {
  const result = await runFlowCli(join(REPO, "test/fixtures/metaflow/no-project-flow.ts"), [], store, { env: USER });
  assert.equal(result.code, 0, describeResult(result));
  const start = await (await (await readRun(`NoProjectFlow/${result.runId}`, store)).step("start")).task();
  assert.deepEqual(await start.artifact("seen"), { projectName: null, branchName: null, projectFlowName: null, parameterNames: [] });
});
