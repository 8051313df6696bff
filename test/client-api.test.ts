/**
 * Reading results (SPEC section 6): Flow -> Run -> Step -> Task, artifacts, logs and
 * failures, through the public API; `Runner` runs a flow in this process; namespaces
 * decide whose runs a client sees.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Flow, Run, Runner, defaultNamespace, getNamespace, namespace, type Task } from "../src/index.js";
import { currentUser } from "../runtime/run-context.js";
import { fixtureFlow, inNamespace, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
const FLOW = fixtureFlow("client-api.ts");
const { datastore } = store;
const me = currentUser();

let ok: Run;
let failed: Run;
let startedAt: number;

before(async () => {
  startedAt = Date.now();
  ok = await new Runner(FLOW, { datastore, tags: ["nightly"] }).run({ label: "first" });
  failed = await new Runner(FLOW, { datastore }).run({ fail: true });
});
after(() => {
  defaultNamespace();
  store.remove();
});

describe("Runner", () => {
  test("runs a flow in-process and returns the finished Run", () => {
    assert.match(ok.id, /^\d{13}-[0-9a-f]{6}$/);
    assert.equal(ok.pathspec, `ClientApiFlow/${ok.id}`);
    assert.equal(ok.successful, true);
    assert.equal(ok.finished, true);
    assert.equal(failed.successful, false);
    assert.equal(failed.finished, true);
  });
});

describe("Flow", () => {
  const flow = new Flow("ClientApiFlow", { datastore });

  test("runs() lists the flow's runs, newest first", async () => {
    assert.deepEqual((await flow.runs()).map((r) => r.id), [failed.id, ok.id]);
  });

  test("latestRun() is the newest run, latestSuccessfulRun() the newest that succeeded", async () => {
    assert.equal((await flow.latestRun()).id, failed.id);
    assert.equal((await flow.latestSuccessfulRun()).id, ok.id);
  });

  test("a flow with no runs says so", async () => {
    await assert.rejects(new Flow("NoSuchFlow", { datastore }).latestRun(), { name: "NotFoundError", message: /NoSuchFlow has no runs/ });
  });
});

describe("Run", () => {
  test("Run.get reads a run by pathspec", async () => {
    const run = await Run.get(ok.pathspec, { datastore });
    assert.equal(run.id, ok.id);
    await assert.rejects(Run.get("ClientApiFlow/123-abcdef", { datastore }), { name: "NotFoundError" });
  });

  test("parameters, tags, createdAt and status", () => {
    assert.deepEqual(ok.parameters, { "test-mode": true, fail: false, label: "first" });
    for (const tag of [`user:${me}`, "project:client", "nightly"]) assert.ok(ok.tags.includes(tag), `${tag} in ${ok.tags}`);
    assert.ok(ok.createdAt instanceof Date, "createdAt is a Date");
    assert.ok(ok.createdAt.getTime() >= startedAt - 1000 && ok.createdAt.getTime() <= Date.now(), ok.createdAt.toISOString());
    assert.ok(ok.finishedAt! >= ok.createdAt, "finishedAt after createdAt");
  });

  test("steps() in the order they ran; step(name)", async () => {
    assert.deepEqual((await ok.steps()).map((s) => s.name), ["start", "each", "gather", "end"]);
    assert.equal((await ok.step("gather")).pathspec, `${ok.pathspec}/gather`);
    await assert.rejects(ok.step("nope"), { name: "NotFoundError" });
  });

  test("artifact(name) and data() read the end step", async () => {
    assert.equal(await ok.artifact("summary"), "first: A,B,C");
    const data = await ok.data();
    assert.equal(data.summary, "first: A,B,C");
    assert.deepEqual(data.letters, ["A", "B", "C"]);
    assert.equal(data.label, "first");
    assert.equal(data.fail, false);
  });

  test("a failed run has no end step to read", async () => {
    assert.deepEqual((await failed.steps()).map((s) => s.name), ["start", "each", "gather"]);
    await assert.rejects(failed.artifact("summary"), { name: "NotFoundError" });
  });
});

describe("Step and Task", () => {
  let splits: Task[];
  before(async () => {
    splits = await (await ok.step("each")).tasks();
  });

  test("tasks() of a foreach step in index order; Task.index", () => {
    assert.equal(splits.length, 3);
    assert.deepEqual(splits.map((t) => t.index), [0, 1, 2]);
    assert.ok(splits.every((t) => t.successful), "every split succeeded");
  });

  test("task() is the first split; task(id) a given one", async () => {
    const step = await ok.step("each");
    assert.equal((await step.task()).id, splits[0]!.id);
    assert.equal((await step.task(splits[2]!.id)).index, 2);
    assert.equal((await (await ok.step("start")).task()).index, null);
  });

  test("artifact(name) and artifacts()", async () => {
    assert.deepEqual(await Promise.all(splits.map((t) => t.artifact("letter"))), ["A", "B", "C"]);
    const all = await splits[1]!.artifacts();
    assert.equal(all.letter, "B");
    assert.equal(all.position, 1);
    assert.deepEqual(all.items, ["a", "b", "c"]);
    assert.equal(all.label, "first");
    await assert.rejects(splits[1]!.artifact("nope"), { name: "NotFoundError", message: /has no artifact 'nope'/ });
  });

  test("stdout() and stderr()", async () => {
    assert.equal(await splits[1]!.stdout(), "item 1 is b\n");
    const start = await (await ok.step("start")).task();
    assert.match(await start.stdout(), new RegExp(`starting ClientApiFlow/${ok.id}/start/${start.id}`));
    assert.equal(await start.stderr(), "start warns on stderr\n");
    assert.equal(await splits[1]!.stderr(), "");
  });

  test("exception is undefined for a successful task and the error for a failed one", async () => {
    assert.equal(splits[0]!.exception, undefined);
    const gather = await (await failed.step("gather")).task();
    assert.equal(gather.successful, false);
    assert.equal(gather.exception?.name, "Error");
    assert.equal(gather.exception?.message, "asked to fail after ABC");
    assert.match(gather.exception?.stack ?? "", /client-api\.ts/);
  });
});

describe("namespaces", () => {
  test("the default namespace is your own user", () => {
    assert.equal(defaultNamespace(), `user:${me}`);
    assert.equal(getNamespace(), `user:${me}`);
  });

  test('namespace("user:someone-else") hides your runs; namespace(null) shows them', async () => {
    const flow = new Flow("ClientApiFlow", { datastore });
    await inNamespace("user:someone-else", async () => {
      assert.deepEqual(await flow.runs(), []);
      await assert.rejects(flow.latestRun(), { name: "NotFoundError" });
      await assert.rejects(Run.get(ok.pathspec, { datastore }), { name: "NotFoundError", message: /not in the current namespace/ });
    });
    await inNamespace(null, async () => {
      assert.deepEqual((await flow.runs()).map((r) => r.id), [failed.id, ok.id]);
    });
  });

  test('namespace("project:client") shows the project\'s runs', async () => {
    await inNamespace("project:client", async () => {
      assert.equal((await new Flow("ClientApiFlow", { datastore }).runs()).length, 2);
    });
  });

  test("two users (FLOWRUN_USER) each see their own runs by default", async () => {
    const saved = process.env.FLOWRUN_USER;
    const runAs = async (user: string) => {
      process.env.FLOWRUN_USER = user;
      return new Runner(FLOW, { datastore }).run({ label: user });
    };
    try {
      const alice = await runAs("alice");
      const bob = await runAs("bob");
      assert.equal(alice.user, "alice");
      assert.ok(alice.tags.includes("user:alice"), alice.tags.join(","));
      const flow = new Flow("ClientApiFlow", { datastore });
      // FLOWRUN_USER is still bob: the default namespace is bob's.
      assert.equal(defaultNamespace(), "user:bob");
      assert.deepEqual((await flow.runs()).map((r) => r.id), [bob.id]);
      await inNamespace("user:alice", async () => {
        assert.deepEqual((await flow.runs()).map((r) => r.id), [alice.id]);
        assert.equal(await (await flow.latestRun()).artifact("label"), "alice");
      });
      await inNamespace(null, async () => {
        assert.equal((await flow.runs()).length, 4);
      });
    } finally {
      if (saved === undefined) delete process.env.FLOWRUN_USER;
      else process.env.FLOWRUN_USER = saved;
      defaultNamespace();
    }
  });
});
