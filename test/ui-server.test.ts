/**
 * `flowrun ui` over HTTP, without a browser: what it answers, what it refuses (anything but
 * reading; `..`; another host's name), and that a user's strings come back as text.
 * test/ui-browser.alone.test.ts drives the pages in Chromium.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { clientDatastore } from "../src/client/client-datastore.js";
import { startUiServer, type UiServer } from "../src/ui/ui-server.js";
import { timelineSvg } from "../src/ui/timeline-svg.js";
import { vegaLiteToSvg } from "../src/ui/vega-svg.js";
import type { TaskRecord } from "../runtime/metadata/records.js";
import { describeResult, fixtureFlow, REPO, runCli, runFlowCli, tempDatastore, type TempDatastore } from "./support/flowrun-cli.js";

/** A raw GET (or other method) with the path sent exactly as given: fetch would normalise `..` away. */
function raw(ui: UiServer, path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(ui.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: { host: options.host ?? `127.0.0.1:${port}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("flowrun ui's server", () => {
  let store: TempDatastore;
  let ui: UiServer;
  let ok: string;
  let failed: string;
  before(async () => {
    store = tempDatastore();
    const first = await runFlowCli(fixtureFlow("card-report.ts"), ["--tag", "nightly"], store);
    assert.equal(first.code, 0, describeResult(first));
    const second = await runFlowCli(fixtureFlow("card-report.ts"), [], store, { env: { CARD_REPORT_FAIL: "1" } });
    assert.equal(second.code, 1, describeResult(second));
    ok = `CardReportFlow/${first.runId}`;
    failed = `CardReportFlow/${second.runId}`;
    ui = await startUiServer(await clientDatastore(store.datastore), { port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await ui?.close();
    store?.remove();
  });

  test("pages carry a Content-Security-Policy that allows only the server's own script", async () => {
    const page = await raw(ui, `/runs/${ok}`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-security-policy"]), /default-src 'none'; script-src 'self';/);
    assert.equal(page.headers["x-content-type-options"], "nosniff");
    assert.match(page.body, /<script src="\/static\/app\.js" defer><\/script>/);
    assert.equal((page.body.match(/<script/g) ?? []).length, 1, "no inline script");
  });

  test("lists runs newest first, filtered by status, flow, tag and namespace", async () => {
    const all = (await (await fetch(`${ui.url}/api/runs`)).json()) as { total: number; runs: Array<{ flow: string; runId: string; status: string; tags: string[] }> };
    assert.equal(all.total, 2);
    assert.deepEqual(all.runs.map((r) => `${r.flow}/${r.runId}`), [failed, ok]);
    assert.deepEqual(all.runs.map((r) => r.status), ["failed", "succeeded"]);
    const only = async (query: string) => ((await (await fetch(`${ui.url}/api/runs?${query}`)).json()) as typeof all).runs.map((r) => `${r.flow}/${r.runId}`);
    assert.deepEqual(await only("status=failed"), [failed]);
    assert.deepEqual(await only("tag=nightly"), [ok]);
    assert.deepEqual(await only(`namespace=user:${all.runs[0]!.tags.find((t) => t.startsWith("user:"))!.slice(5)}`), [failed, ok]);
    assert.deepEqual(await only("namespace=project:other"), []);
    assert.deepEqual(await only("flow=OtherFlow"), []);
    assert.deepEqual(await only("limit=1&page=2"), [ok]);
    const bad = await raw(ui, "/api/runs?status=exploded");
    assert.equal(bad.status, 400);
    assert.match(bad.body, /status &quot;exploded&quot; is not one of running, succeeded, failed, cancelled, crashed/);
  });

  test("a failed run's page names the failed task and its error", async () => {
    const page = await raw(ui, `/runs/${failed}`);
    assert.match(page.body, /status-failed/);
    assert.match(page.body, /href="\/runs\/CardReportFlow\/[^"]+\/work\/\d+">CardReportFlow\/[^<]+\/work\/\d+<\/a>: Error: work 2 failed on purpose/);
  });

  test("a user's strings are text: an artifact holding <script> comes back escaped", async () => {
    const preview = await raw(ui, `/api/runs/${ok}/start/1/artifacts/note`);
    assert.equal(preview.status, 200);
    assert.match(preview.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(preview.body, /<script/);
    const task = await raw(ui, `/runs/${ok}/start/1`);
    assert.doesNotMatch(task.body.replace('<script src="/static/app.js" defer></script>', ""), /<script/i);
  });

  test("refuses `..`, encoded separators, and names that cannot be a flow, run, step, task or artifact", async () => {
    for (const path of ["/static/../../../etc/passwd", "/runs/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fpackage.json", "/static/%2e%2e%5cpackage.json"]) {
      const answer = await raw(ui, path);
      assert.equal(answer.status, 400, `${path}: ${answer.status}`);
      assert.doesNotMatch(answer.body, /root:|"name": "flowrun"/);
    }
    assert.equal((await raw(ui, "/runs/%E0%A4%A")).status, 400, "bad percent-encoding");
    for (const path of ["/static/ui-server.ts", "/static/tsconfig.json", `/runs/${ok}/start/1/../../../x`, "/runs/Card.Report/123", `/runs/${ok}/st%20art/1`, `/api/runs/${ok}/start/1/artifacts/a.b`]) {
      assert.notEqual((await raw(ui, path)).status, 200, path);
    }
    const missing = await raw(ui, "/runs/NoSuchFlow/1712345678901-a1b2c3");
    assert.equal(missing.status, 404);
    assert.match(missing.body, /no run NoSuchFlow\/1712345678901-a1b2c3 in this datastore/);
  });

  test("is read-only, and answers only to local names", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) assert.equal((await raw(ui, "/api/runs", { method })).status, 405);
    const rebound = await raw(ui, "/api/runs", { host: "attacker.example:8324" });
    assert.equal(rebound.status, 421);
    assert.equal((await raw(ui, "/api/runs", { host: "localhost:8324" })).status, 200);
  });

  test("a finished run's event stream says its state once and ends", async () => {
    const events = await raw(ui, `/events/runs/${ok}`);
    assert.equal(events.headers["content-type"], "text/event-stream; charset=utf-8");
    const state = /event: state\ndata: (.*)\n/.exec(events.body);
    assert.ok(state, events.body);
    const parsed = JSON.parse(state[1]!) as { status: string; steps: Array<{ name: string; done: number; total: number }> };
    assert.equal(parsed.status, "succeeded");
    assert.deepEqual(parsed.steps.map((s) => `${s.name} ${s.done}/${s.total}`), ["start 1/1", "work 3/3", "join 1/1", "end 1/1"]);
    assert.match(events.body, /event: end\n/);
  });
});

test("a chart's spec cannot make the server read a file or a URL", async () => {
  for (const url of ["/etc/hostname", "file:///etc/hostname", "http://127.0.0.1:1/data.json"]) {
    await assert.rejects(vegaLiteToSvg({ data: { url }, mark: "point" }), new RegExp(`charts carry their data inline .*${url.replace(/[/.]/g, "\\$&")}" is not loaded`));
  }
});

test("flowrun ui refuses a busy port in one line, and warns when it listens beyond this machine", async () => {
  const store = tempDatastore();
  const busy = await startUiServer(await clientDatastore(store.datastore), { port: 0, host: "127.0.0.1" });
  try {
    const port = new URL(busy.url).port;
    const result = await runCli(["ui", "--port", port], { env: store.env });
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, new RegExp(`flowrun: port ${port} on 127.0.0.1 is in use \\[FLOWRUN_ERR_USAGE\\]`));
    const open = await runCli(["ui", "--port", port, "--host", "0.0.0.0"], { env: store.env });
    assert.match(open.stderr, /warning: flowrun ui on 0\.0\.0\.0 has no login/);
  } finally {
    await busy.close();
    store.remove();
  }
});

test("a retried task's failed attempts are kept: drawn on the timeline, with their output on the task page", async () => {
  const store = tempDatastore();
  const result = await runFlowCli(`${REPO}/test/fixtures/faults/FlakyStepFlow.ts`, ["--with", "retry:times=2"], store);
  assert.equal(result.code, 0, describeResult(result));
  const ui = await startUiServer(await clientDatastore(store.datastore), { port: 0, host: "127.0.0.1" });
  try {
    const run = `FlakyStepFlow/${result.runId}`;
    const timeline = await (await fetch(`${ui.url}/api/runs/${run}/timeline`)).text();
    const work = /<g class="band" data-step="work">(.*?)<\/g>/s.exec(timeline)?.[1] ?? "";
    const attempts = [...work.matchAll(/<rect class="bar run status-(\w+)"[^>]*data-task="work\/(\d+)" data-attempt="(\d)"/g)].map((m) => `${m[3]} ${m[1]}`);
    assert.deepEqual(attempts, ["0 failed", "1 failed", "2 succeeded"]);
    const taskId = /data-task="work\/(\d+)"/.exec(work)![1];
    const first = await (await fetch(`${ui.url}/runs/${run}/work/${taskId}?attempt=0`)).text();
    assert.match(first, /<div class="line">attempt 1<\/div>/);
    assert.match(first, /Error: attempt 1 fails/);
    assert.match(first, /<a href="\/runs\/FlakyStepFlow\/[^"]+\/work\/\d+\?attempt=2">attempt 2<\/a>/);
    assert.equal((await fetch(`${ui.url}/runs/${run}/work/${taskId}?attempt=3`)).status, 404);
  } finally {
    await ui.close();
    store.remove();
  }
});

test("a timeline draws every task: neighbours too narrow to tell apart share a bar, wide ones and retries stay apart", () => {
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  const task = (taskId: number, step: string, start: number, ms: number, extra: Partial<TaskRecord> = {}): TaskRecord => ({
    flow: "F", runId: "1-abcdef", step, taskId: String(taskId), attempt: 0, status: "succeeded",
    startedAt: at(start), finishedAt: at(start + ms), parents: [], foreachStack: [], logKey: "", ...extra,
  });
  // 1,000 tasks of 1 ms back to back on one lane of a 10 s run; two of 2 s; one retried twice.
  const tasks = [
    ...Array.from({ length: 1000 }, (_, i) => task(i + 1, "body", i, 1)),
    task(2001, "wide", 2000, 2000), task(2002, "wide", 5000, 2000),
    task(3001, "flaky", 9000, 1, { attempt: 2, earlierAttempts: [{ attempt: 0, startedAt: at(8996), finishedAt: at(8997) }, { attempt: 1, startedAt: at(8998), finishedAt: at(8999) }] }),
  ];
  const graph = { steps: ["body", "wide", "flaky"].map((name) => ({ name, kind: "linear", next: [], isJoin: false, decorators: [] })) };
  const svg = timelineSvg(graph, tasks, t0, t0 + 10_000).text;
  const band = (step: string) =>
    [...(new RegExp(`<g class="band" data-step="${step}">(.*?)</g>`, "s").exec(svg)?.[1] ?? "").matchAll(/<rect class="bar run [^"]*"([^>]*)>/g)].map((m) => ({
      count: Number(/data-count="(\d+)"/.exec(m[1]!)?.[1] ?? 1),
      attempt: /data-attempt="(\d+)"/.exec(m[1]!)![1],
    }));
  const body = band("body");
  assert.equal(body.reduce((sum, bar) => sum + bar.count, 0), 1000, "every task is drawn, alone or in a shared bar");
  assert.ok(body.length <= 100, `${body.length} bars for 1,000 tasks on ~94 pixels`);
  assert.deepEqual(band("wide").map((bar) => bar.count), [1, 1]);
  assert.deepEqual(band("flaky").map((bar) => bar.attempt), ["0", "1", "2"], "a task's attempts are never merged");
});

test("a run recorded before runs kept their graph is drawn from its tasks' links", async () => {
  const store = tempDatastore();
  const result = await runFlowCli(`${REPO}/flows/Hello.ts`, [], store);
  assert.equal(result.code, 0, describeResult(result));
  const stores = await clientDatastore(store.datastore);
  const { graph: _graph, ...older } = (await stores.metadata.getRun("HelloFlow", result.runId))!;
  await stores.metadata.putRun(older);
  const ui = await startUiServer(stores, { port: 0, host: "127.0.0.1" });
  try {
    const page = await (await fetch(`${ui.url}/runs/HelloFlow/${result.runId}`)).text();
    assert.deepEqual([...page.matchAll(/<g class="step state-(\w+)" data-step="(\w+)"/g)].map((m) => `${m[2]} ${m[1]}`).sort(), ["end succeeded", "repeat succeeded", "start succeeded"]);
    assert.equal([...page.matchAll(/<path class="edge"/g)].length, 2);
  } finally {
    await ui.close();
    store.remove();
  }
});
