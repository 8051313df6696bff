/**
 * Cards as a Metaflow user relies on them (metaflow's test/core card tests: a card per task,
 * components appended in order, refreshed while the task runs, kept by resume), and
 * `flowrun card view`'s file: one HTML document with nothing outside it and nothing run.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ContentStore } from "../runtime/datastore/content-store.js";
import { MetadataStore } from "../runtime/metadata/metadata-store.js";
import { Markdown, type CardData } from "../src/core/flow/cards.js";
import { TaskCardCollector } from "../runtime/worker/task-card.js";
import type { StoredCard } from "../runtime/metadata/records.js";
import { openBackend } from "../runtime/datastore/open-backend.js";
import { describeResult, fixtureFlow, readRun, runCli, runFlowCli, tempDatastore, type TempDatastore } from "./support/flowrun-cli.js";
import { PIXEL_PNG } from "./fixtures/flows/card-report.js";

const CARD_FLOW = fixtureFlow("card-report.ts");

describe("a run whose steps build cards", () => {
  let store: TempDatastore;
  let runId: string;
  before(async () => {
    store = tempDatastore();
    const result = await runFlowCli(CARD_FLOW, [], store);
    assert.equal(result.code, 0, describeResult(result));
    runId = result.runId;
  });
  after(() => store.remove());

  test("keeps each task's components in the order appended, as plain data", async () => {
    const run = await readRun(`CardReportFlow/${runId}`, store);
    const card = await (await (await run.step("start")).task()).card();
    assert.ok(card);
    assert.equal(card.type, "default", "@card() is a default card");
    assert.deepEqual(card.components.map((c) => c.type), ["markdown", "table", "vegalite"]);
    const table = card.components[1]!;
    assert.equal(table.type, "table");
    if (table.type !== "table") return;
    assert.deepEqual(table.headers, ["name", "value"]);
    const image = table.rows[1]![1]!;
    assert.ok(typeof image === "object" && image !== null && image.type === "image");
    if (typeof image === "object" && image?.type === "image") assert.deepEqual(Buffer.from(image.bytes), PIXEL_PNG);
  });

  test("a component updated after it was appended is stored as it was when the task ended", async () => {
    const run = await readRun(`CardReportFlow/${runId}`, store);
    for (const task of await (await run.step("work")).tasks()) {
      const card = await task.card();
      assert.equal(card?.type, "blank", "no @card: the appended components alone");
      assert.deepEqual(card?.components, [{ type: "progressbar", value: 4, max: 4, label: "work" }]);
    }
  });

  test("a step that appends nothing and has no @card has no card", async () => {
    const run = await readRun(`CardReportFlow/${runId}`, store);
    assert.equal(await (await (await run.step("end")).task()).card(), null);
    const missing = await runCli(["card", "view", `CardReportFlow/${runId}/end`], { env: store.env });
    assert.equal(missing.code, 2, describeResult(missing));
    assert.match(missing.stderr, /CardReportFlow\/\d+-[0-9a-f]+\/end\/\d+ has no card/);
    assert.match(missing.stderr, /--with card/);
  });

  test("card view writes one self-contained file: chart as SVG, image inline, user text escaped, no script", async () => {
    const out = join(store.root, "..", "start.card.html");
    const result = await runCli(["card", "view", `CardReportFlow/${runId}/start`, "--out", out], { env: store.env });
    assert.equal(result.code, 0, describeResult(result));
    assert.equal(result.stdout.trim(), out);
    const page = readFileSync(out, "utf8");
    assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">/);
    assert.doesNotMatch(page, /<script/i, "no script, and the Markdown's <script> is text");
    assert.match(page, /raw &lt;script&gt;alert\(1\)&lt;\/script&gt; stays text/);
    assert.doesNotMatch(page, /href="javascript:/i, "a javascript: link is not made a link");
    assert.match(page, /<svg[^>]*class="marks"/, "the Vega-Lite chart is drawn");
    assert.match(page, /coherence per k/);
    assert.match(page, new RegExp(`src="data:image/png;base64,${PIXEL_PNG.toString("base64").replace(/[+/]/g, "\\$&")}"`));
    assert.match(page, /&lt;b&gt;beta&lt;\/b&gt;/, "table cells are text");
    assert.doesNotMatch(page, /(src|href)="https?:/, "nothing is fetched from elsewhere");
    // A default card lists the task's artifacts after its components.
    assert.match(page, /<h3>note<\/h3>[\s\S]*&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  test("card view of a foreach step asks which task", async () => {
    const result = await runCli(["card", "view", `CardReportFlow/${runId}/work`], { env: store.env });
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, /work has 3 tasks; name one/);
  });
});

test("--with card gives every step a default card", async () => {
  const store = tempDatastore();
  try {
    const result = await runFlowCli(fixtureFlow("card-misuse.ts"), ["--with", "card"], store);
    assert.equal(result.code, 0, describeResult(result));
    const run = await readRun(`CardMisuseFlow/${result.runId}`, store);
    for (const step of await run.steps()) assert.deepEqual(await (await step.task()).card().then((c) => c && { type: c.type, n: c.components.length }), { type: "default", n: 0 });
    const bad = await runFlowCli(fixtureFlow("card-misuse.ts"), ["--with", "card:type=fancy"], store);
    assert.equal(bad.code, 2, describeResult(bad));
    assert.match(bad.stderr, /--with card:type=fancy: type must be "default" or "blank", got "fancy"/);
  } finally {
    store.remove();
  }
});

describe("misusing the card API fails the task, naming the mistake", () => {
  for (const [what, message] of [
    ["not-a-component", /current\.card\.append takes a card component \(Markdown, Table, Image, VegaLite, ProgressBar\), got a plain object/],
    ["not-an-image", /Image: the bytes are not a PNG or JPEG image \(they start 47494638\)/],
  ] as const) {
    test(what, async () => {
      const store = tempDatastore();
      try {
        const result = await runFlowCli(fixtureFlow("card-misuse.ts"), [], store, { env: { CARD_MISUSE: what } });
        assert.equal(result.code, 1, describeResult(result));
        assert.match(result.stdout + result.stderr, message);
      } finally {
        store.remove();
      }
    });
  }
});

test("a failed task keeps the card it built; resume keeps the cards of the tasks it clones", async () => {
  const store = tempDatastore();
  try {
    const failed = await runFlowCli(CARD_FLOW, [], store, { env: { CARD_REPORT_FAIL: "1" } });
    assert.equal(failed.code, 1, describeResult(failed));
    const run = await readRun(`CardReportFlow/${failed.runId}`, store);
    const broken = (await (await run.step("work")).tasks()).find((t) => t.metadata.status === "failed");
    assert.ok(broken, "work 2 failed");
    assert.deepEqual((await broken.card())?.components, [{ type: "progressbar", value: 4, max: 4, label: "work" }]);

    const resumed = await runCli(["resume", CARD_FLOW, "--origin-run-id", failed.runId, "--run-id-file", join(store.root, "..", "resumed")], { env: store.env });
    assert.equal(resumed.code, 0, describeResult(resumed));
    const resumedId = readFileSync(join(store.root, "..", "resumed"), "utf8").trim();
    const start = await (await (await readRun(`CardReportFlow/${resumedId}`, store)).step("start")).task();
    assert.ok(start.clonedFrom, "start was cloned");
    assert.deepEqual((await start.card())?.components.map((c) => c.type), ["markdown", "table", "vegalite"]);
  } finally {
    store.remove();
  }
});

test("refresh() stores at most once a second when a refresh comes after the one it deferred was due", async () => {
  const store = tempDatastore();
  const backend = await openBackend(store.datastore);
  try {
    const stores: number[] = [];
    const metadata = new (class extends MetadataStore {
      override async putLiveCard(...args: Parameters<MetadataStore["putLiveCard"]>): Promise<void> {
        stores.push(Date.parse((args[2] as StoredCard).updatedAt));
        await super.putLiveCard(...args);
      }
    })(backend);
    const task = { flow: "F", runId: "1", step: "work", taskId: "2", attempt: 0 };
    const card = new TaskCardCollector("blank", task, new ContentStore(backend), metadata, (text) => assert.fail(text));
    card.append(new Markdown("one"));
    await card.refresh();
    await new Promise((resolve) => setTimeout(resolve, 300));
    card.append(new Markdown("two"));
    await card.refresh(); // deferred: due a second after the first store
    // The step computes past that moment without yielding, then refreshes again.
    const busyUntil = stores[0]! + 1100;
    while (Date.now() < busyUntil);
    card.append(new Markdown("three"));
    await card.refresh();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await card.finish();
    const gaps = stores.slice(1).map((at, i) => at - stores[i]!);
    assert.ok(gaps.every((gap) => gap >= 1000), `stored ${stores.length} times, ${gaps.join(", ")} ms apart`);
  } finally {
    await backend.close();
    store.remove();
  }
});

test("refresh() stores the card while the task runs, at most once a second", async () => {
  const store = tempDatastore();
  try {
    const running = runFlowCli(CARD_FLOW, ["--slow", "3"], store);
    // Read the running tasks' cards as a UI would, until the run ends.
    const seen = new Map<string, Map<string, number>>();
    let done = false;
    void running.finally(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const metadata = new MetadataStore(await openBackend(store.datastore));
    try {
      while (!done) {
        for (const run of await metadata.listRuns("CardReportFlow")) {
          for (const task of await metadata.listTasks("CardReportFlow", run.runId, "work")) {
            if (task.status !== "running") continue;
            const card = await metadata.taskCard(task);
            if (!card?.ref) continue;
            const value = ((await new ContentStore(metadata.backend).load(card.ref, "card")) as CardData).components[0];
            if (!seen.has(task.taskId)) seen.set(task.taskId, new Map());
            if (value?.type === "progressbar") seen.get(task.taskId)!.set(card.updatedAt, value.value);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await metadata.backend.close();
    }
    const result = await running;
    assert.equal(result.code, 0, describeResult(result));
    assert.equal(seen.size, 3, "each work task's card was read while it ran");
    for (const [taskId, updates] of seen) {
      const times = [...updates.keys()].map(Date.parse).sort((a, b) => a - b);
      assert.ok(times.length >= 2, `work/${taskId}: the card changed while the task ran (${times.length} versions seen)`);
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 990, `work/${taskId}: refreshes ${times[i]! - times[i - 1]!} ms apart`);
      const values = [...updates.values()];
      assert.ok(values.some((v) => v < 4), `work/${taskId}: a refresh from before the bar was full (${values.join(", ")})`);
    }
  } finally {
    store.remove();
  }
});
