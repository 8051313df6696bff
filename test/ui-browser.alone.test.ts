/**
 * `flowrun ui` in a real browser (Debian's chromium through playwright-core), over a datastore
 * this file fills: a successful run, a failed one, one still running, and one on S3 (s3rver).
 * It checks what a user looks at (the runs table, the DAG's steps, the timeline's bars, a
 * running task's output arriving live, artifact previews, a card's chart) and what must never
 * happen (a user's `<script>` running, a `..` URL answered). Screenshots go to
 * test-results/screenshots/.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { clientDatastore } from "../src/client/client-datastore.js";
import { MetadataStore } from "../runtime/metadata/metadata-store.js";
import { openBackend } from "../runtime/datastore/open-backend.js";
import { startUiServer, type UiServer } from "../src/ui/ui-server.js";
import { chromiumMissing, launchChromium } from "./support/chromium.js";
import { describeResult, fixtureFlow, REPO, runFlowCli, tempDatastore, type TempDatastore } from "./support/flowrun-cli.js";
import { s3ServerPerFile, s3Store } from "./fixtures/s3/test-stores.js";

const CARD_FLOW = fixtureFlow("card-report.ts");
const SCREENSHOTS = join(REPO, "test-results", "screenshots");
const TSX = import.meta.resolve("tsx");
const s3Server = s3ServerPerFile();

describe("flowrun ui in chromium", { skip: chromiumMissing() }, () => {
  let store: TempDatastore;
  let ui: UiServer;
  let browser: Browser;
  let ok: string;
  let failed: string;
  let running: { pathspec: string; child: ChildProcess };
  const alerts: string[] = [];

  /** A fresh page that records any dialog (an alert would mean a user's script ran). */
  async function open(path: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("dialog", (dialog) => {
      alerts.push(dialog.message());
      void dialog.dismiss();
    });
    const response = await page.goto(`${ui.url}${path}`);
    assert.equal(response?.status(), 200, `${path}: ${response?.status()}`);
    return page;
  }

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    store = tempDatastore();
    const first = await runFlowCli(CARD_FLOW, [], store);
    assert.equal(first.code, 0, describeResult(first));
    ok = `CardReportFlow/${first.runId}`;
    const second = await runFlowCli(CARD_FLOW, [], store, { env: { CARD_REPORT_FAIL: "1" } });
    assert.equal(second.code, 1, describeResult(second));
    failed = `CardReportFlow/${second.runId}`;
    running = await startSlowRun(store);
    ui = await startUiServer(await clientDatastore(store.datastore), { port: 0, host: "127.0.0.1" });
    browser = await launchChromium();
  });
  after(async () => {
    running?.child.kill("SIGKILL");
    await browser?.close();
    await ui?.close();
    store?.remove();
  });

  test("the runs table lists every run, newest first, and filters by status", async () => {
    const page = await open("/");
    const rows = page.locator("table.runs tbody tr");
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run"))), [running.pathspec, failed, ok]);
    assert.deepEqual(await page.locator("table.runs .status").allTextContents(), ["running", "failed", "succeeded"]);
    await page.selectOption("select[name=status]", "failed");
    await Promise.all([page.waitForURL(/status=failed/), page.click("form.filters button")]);
    assert.deepEqual(await page.locator("table.runs tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run"))), [failed]);
    await page.screenshot({ path: join(SCREENSHOTS, "runs.png"), fullPage: true });
    await page.close();
  });

  test("a run's page draws its DAG, each step with its state and counts, and a timeline bar per task", async () => {
    const page = await open(`/runs/${ok}`);
    const steps = page.locator("svg.dag g.step");
    assert.deepEqual(await steps.evaluateAll((gs) => gs.map((g) => `${g.getAttribute("data-step")} ${g.getAttribute("class")}`)), [
      "start step state-succeeded", "work step state-succeeded", "join step state-succeeded", "end step state-succeeded",
    ]);
    assert.equal(await page.locator('svg.dag g.step[data-step="work"] .counts').textContent(), "3/3 done");
    assert.equal(await page.locator("svg.dag path.edge").count(), 3);
    assert.equal(await page.locator("svg.timeline rect.bar.run").count(), 6, "start, 3 × work, join, end");
    assert.equal(await page.locator('svg.timeline g.band[data-step="work"] rect.bar.run').count(), 3);
    await page.screenshot({ path: join(SCREENSHOTS, "run-page.png"), fullPage: true });
    await page.close();
  });

  test("a failed run shows the failed step and the error, and the task page its exception at the user's line", async () => {
    const page = await open(`/runs/${failed}`);
    assert.match((await page.locator('svg.dag g.step[data-step="work"]').getAttribute("class"))!, /state-failed/);
    assert.match(await page.locator(".error-box").textContent() ?? "", /work 2 failed on purpose/);
    await Promise.all([page.waitForURL(/\/work\/\d+$/), page.click(".error-box a")]);
    assert.match(await page.locator(".exception").first().textContent() ?? "", /Error: work 2 failed on purpose/);
    assert.match(await page.locator("code.source").textContent() ?? "", /card-report\.ts:\d+$/);
    assert.equal(await page.locator("svg.timeline").count(), 0);
    await page.close();
  });

  test("a running task's output and card appear on its page as they are written, with no reload", async () => {
    const page = await open(`/runs/${running.pathspec}`);
    assert.match((await page.locator('svg.dag g.step[data-step="work"]').getAttribute("class"))!, /state-running/);
    assert.match(await page.locator("#run-status").textContent() ?? "", /running/);
    assert.ok((await page.locator("svg.timeline rect.bar.status-running").count()) >= 1, "running tasks have bars");
    const task = await firstRunningTask(store, running.pathspec);
    await page.goto(`${ui.url}/runs/${running.pathspec}/work/${task}`);
    await page.evaluate(() => void ((globalThis as Record<string, unknown>).stayed = true));
    const before = await page.locator("#log-stdout .line").count();
    const bar = page.locator("#card progress");
    const valueBefore = Number(await bar.getAttribute("value"));
    // Each tick prints a line and refreshes the card, a few seconds apart.
    await waitUntil(async () => (await page.locator("#log-stdout .line").count()) > before, "a new line of output");
    await waitUntil(async () => Number(await bar.getAttribute("value")) > valueBefore, "the card's progress bar to move");
    assert.equal(await page.evaluate(() => (globalThis as Record<string, unknown>).stayed), true, "the page was updated in place, not reloaded");
    assert.match(await page.locator("#log-stdout").textContent() ?? "", /work \d tick 2/);
    await page.fill('.log-search[data-target="log-stdout"]', "tick 1");
    assert.equal(await page.locator("#log-stdout .line:not(.hidden)").count(), 1);
    await page.screenshot({ path: join(SCREENSHOTS, "running-task.png"), fullPage: true });
    await page.close();
  });

  test("artifacts are previewed when opened: a table for records, a chart for numbers, a user's <script> as text", async () => {
    const page = await open(`/runs/${ok}/start/1`);
    await page.click('tr[data-artifact="rows"] summary');
    await page.waitForSelector('tr[data-artifact="rows"] table.records');
    assert.deepEqual(await page.locator('tr[data-artifact="rows"] table.records td').allTextContents(), ["alpha", "1", "beta", "2"]);
    await page.click('tr[data-artifact="scores"] summary');
    await page.waitForSelector('tr[data-artifact="scores"] figure.chart svg');
    assert.match(await page.locator('tr[data-artifact="scores"] .summary').textContent() ?? "", /50 values/);
    await page.click('tr[data-artifact="note"] summary');
    await page.waitForSelector('tr[data-artifact="note"] .tree');
    assert.equal(await page.locator('tr[data-artifact="note"] .tree').textContent(), "<script>alert(1)</script>");
    assert.equal(await page.locator('tr[data-artifact="note"] script').count(), 0);
    assert.deepEqual(alerts, [], "no user script ran");
    await page.close();
  });

  test("a task's card is shown with its chart drawn, and its Markdown's HTML as text", async () => {
    const page = await open(`/runs/${ok}/start/1`);
    const chart = page.locator("#card .card-chart svg");
    assert.equal(await chart.count(), 1);
    assert.ok((await chart.locator("path").count()) > 0, "the line is drawn");
    assert.match(await chart.textContent() ?? "", /coherence per k/);
    assert.match(await page.locator("#card .card-markdown").textContent() ?? "", /raw <script>alert\(1\)<\/script> stays text/);
    assert.equal(await page.locator("#card .card-markdown a").count(), 0, "a javascript: link is not a link");
    assert.equal(await page.locator("#card img").evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), 1, "the PNG decodes");
    await page.screenshot({ path: join(SCREENSHOTS, "task-card.png"), fullPage: true });
    assert.deepEqual(alerts, []);
    await page.close();
  });

  test("a `..` URL is refused, not answered with a file", async () => {
    const page = await browser.newPage();
    for (const path of ["/static/%2e%2e/%2e%2e/%2e%2e/package.json", "/runs/..%2f..%2fpackage.json"]) {
      const response = await page.goto(`${ui.url}${path}`);
      assert.ok(response && [400, 404].includes(response.status()), `${path}: ${response?.status()}`);
      assert.doesNotMatch(await page.content(), /"name": "flowrun"/);
    }
    await page.close();
  });

  describe("on S3", () => {
    let s3ui: UiServer;
    let s3run: string;
    before(async () => {
      const s3 = s3Store(s3Server(), "ui-browser");
      const result = await s3.run(CARD_FLOW);
      assert.equal(result.code, 0, describeResult(result));
      s3run = `CardReportFlow/${result.runId}`;
      s3ui = await startUiServer(await clientDatastore(s3.datastore), { port: 0, host: "127.0.0.1" });
    });
    after(() => s3ui?.close());

    test("the same pages read an S3 datastore", async () => {
      const page = await browser.newPage();
      await page.goto(`${s3ui.url}/`);
      assert.deepEqual(await page.locator("table.runs tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run"))), [s3run]);
      await page.goto(`${s3ui.url}/runs/${s3run}`);
      assert.equal(await page.locator("svg.dag g.step.state-succeeded").count(), 4);
      assert.equal(await page.locator("svg.timeline rect.bar.run").count(), 6);
      await page.goto(`${s3ui.url}/runs/${s3run}/start/1`);
      assert.equal(await page.locator("#card .card-chart svg").count(), 1);
      await page.close();
    });
  });
});

/** A card-report run whose `work` tasks tick for a while; resolves once they are running. */
async function startSlowRun(store: TempDatastore): Promise<{ pathspec: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", TSX, join(REPO, "src/cli/main.ts"), "run", CARD_FLOW, "--slow", "40"], {
    cwd: REPO,
    env: { ...process.env, ...store.env, NO_COLOR: "1" },
    stdio: "ignore",
  });
  const metadata = new MetadataStore(await openBackend(store.datastore));
  try {
    for (let waited = 0; waited < 60_000; waited += 200) {
      const run = (await metadata.listRuns("CardReportFlow")).find((r) => r.status === "running");
      if (run && (await metadata.listTasks(run.flow, run.runId, "work")).some((t) => t.status === "running")) {
        return { pathspec: `${run.flow}/${run.runId}`, child };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await metadata.backend.close();
  }
  child.kill("SIGKILL");
  throw new Error("the slow run's work tasks did not start within 60 s");
}

/** Polls `check` (in this process: the page's CSP allows no evaluated strings) until it holds, for up to 20 s. */
async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (await check()) return;
  }
  assert.fail(`waited 20 s for ${what}`);
}

async function firstRunningTask(store: TempDatastore, pathspec: string): Promise<string> {
  const [flow, runId] = pathspec.split("/") as [string, string];
  const metadata = new MetadataStore(await openBackend(store.datastore));
  try {
    const task = (await metadata.listTasks(flow, runId, "work")).find((t) => t.status === "running");
    assert.ok(task, "a work task is running");
    return task.taskId;
  } finally {
    await metadata.backend.close();
  }
}
