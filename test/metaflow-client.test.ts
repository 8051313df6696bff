/**
 * Follows Metaflow's client tests: test/core/tests/client_parent_tasks.py and
 * client_child_tasks.py (a task's parents are the tasks whose pathspecs it recorded from its
 * inputs; its children are exactly the tasks that recorded it), basic_tags.py (runs filtered
 * by tags, a conjunction with a missing tag finds nothing, steps and tasks carry their run's
 * tags, unicode and spaces in tags), list_runs.py (the CLI lists the flow's runs), and
 * `Metaflow().flows` (the flows with a run in the current namespace). `String(obj)` is the
 * object's pathspec, as `str()` of a Metaflow client object names it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Flow, listFlows, type Run, type Task } from "../src/index.js";
import { currentUser } from "../runtime/run-context.js";
import { describeResult, fixtureFlow, inNamespace, readRun, REPO, runCli, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const LINEAGE = join(REPO, "test/fixtures/metaflow/ClientLineageFlow.ts");
const TAGS = ["刺身 means sashimi", "multiple tags should be ok"];
const store = tempDatastore();
const { datastore } = store;
let run: Run;
let tasks: Task[];

before(async () => {
  const [mine, theirs] = await Promise.all([
    runFlowCli(LINEAGE, TAGS.flatMap((t) => ["--tag", t]), store),
    runFlowCli(fixtureFlow("client-api.ts"), [], store, { env: { FLOWRUN_USER: "someone-else" } }),
  ]);
  assert.equal(mine.code, 0, describeResult(mine));
  assert.equal(theirs.code, 0, describeResult(theirs));
  run = await readRun(`ClientLineageFlow/${mine.runId}`, store);
  tasks = (await Promise.all((await run.steps()).map((s) => s.tasks()))).flat();
});
after(() => store.remove());

const pathspecs = (list: Task[]) => list.map((t) => t.pathspec).sort();

describe("parent and child tasks (client_parent_tasks, client_child_tasks)", () => {
  test("parentTasks() are the tasks the task ran after", async () => {
    assert.equal(tasks.length, 12, "start, left, right, branches, 3 x each, 3 x after, collect, end");
    for (const task of tasks) {
      const recorded = await task.artifact<string[]>("parentPathspecs");
      assert.deepEqual(pathspecs(await task.parentTasks()), [...recorded].sort(), task.pathspec);
    }
  });

  test("childTasks() are exactly the tasks that recorded this one as a parent", async () => {
    const recorded = new Map(await Promise.all(tasks.map(async (t) => [t.pathspec, await t.artifact<string[]>("parentPathspecs")] as const)));
    for (const task of tasks) {
      const expected = tasks.filter((t) => recorded.get(t.pathspec)!.includes(task.pathspec));
      assert.deepEqual(pathspecs(await task.childTasks()), pathspecs(expected), task.pathspec);
    }
    const [end] = await (await run.step("end")).tasks();
    assert.deepEqual(await end!.childTasks(), [], "the end task has no children");
  });

  test("parents and children read from a task fetched alone are Task objects of the same run", async () => {
    const [split] = await (await run.step("branches")).tasks();
    const children = await split!.childTasks();
    assert.deepEqual(children.map((t) => t.index), [0, 1, 2]);
    assert.ok(children.every((t) => t.successful));
    assert.equal(await children[1]!.artifact("taskPathspec"), children[1]!.pathspec);
  });
});

describe("tags (basic_tags)", () => {
  const flow = new Flow("ClientLineageFlow", { datastore });

  test("runs({ tags }) keeps the runs having every tag; a missing tag finds nothing", async () => {
    for (const tag of [...TAGS, `user:${currentUser()}`]) {
      assert.deepEqual((await flow.runs({ tags: [tag] })).map((r) => r.id), [run.id], tag);
      assert.deepEqual(await flow.runs({ tags: ["not_a_tag", tag] }), [], `not_a_tag and ${tag}`);
    }
    assert.deepEqual((await flow.runs({ tags: TAGS })).map((r) => r.id), [run.id]);
    assert.deepEqual(await flow.runs({ tags: ["not_a_tag"] }), []);
  });

  test("steps and tasks carry their run's tags", async () => {
    for (const step of await run.steps()) {
      assert.deepEqual(step.tags, run.tags, step.pathspec);
      for (const task of await step.tasks()) assert.deepEqual(task.tags, run.tags, task.pathspec);
    }
    for (const tag of TAGS) assert.ok(run.tags.includes(tag), `${tag} in ${run.tags}`);
  });
});

describe("flows and pathspecs (Metaflow().flows, list_runs)", () => {
  test("listFlows() lists the flows with a run in the current namespace", async () => {
    assert.deepEqual((await listFlows({ datastore })).map(String), ["ClientLineageFlow"]);
    assert.deepEqual((await inNamespace(null, () => listFlows({ datastore }))).map((f) => f.name), ["ClientApiFlow", "ClientLineageFlow"]);
  });

  test("`flowrun flows` lists them too, and `flowrun runs FLOW` lists the run", async () => {
    const flows = await runCli(["flows"], { env: store.env });
    assert.equal(flows.code, 0, describeResult(flows));
    assert.match(flows.stdout, /^ClientLineageFlow\s+1\s/m);
    assert.doesNotMatch(flows.stdout, /ClientApiFlow/, "someone else's flow is outside the default namespace");
    const all = await runCli(["flows", "--all-namespaces"], { env: store.env });
    assert.match(all.stdout, /^ClientApiFlow\s+1\s/m, describeResult(all));
    const runs = await runCli(["runs", "ClientLineageFlow"], { env: store.env });
    assert.match(runs.stdout, new RegExp(`^ClientLineageFlow/${run.id}\\s+succeeded`, "m"), describeResult(runs));
  });

  test("String() of a flow, run, step or task is its pathspec", async () => {
    const step = await run.step("each");
    const [task] = await step.tasks();
    assert.equal(String(new Flow("ClientLineageFlow", { datastore })), "ClientLineageFlow");
    assert.equal(String(run), `ClientLineageFlow/${run.id}`);
    assert.equal(`${step}`, `ClientLineageFlow/${run.id}/each`);
    assert.equal(String(task), task!.pathspec);
  });
});
