/**
 * The web UI (`flowrun ui`): the run page of a 10,000-split run in Debian's chromium, and the
 * runs API over a datastore of 1,000 runs. The UI runs in this process, from src/ui, over
 * datastores the built CLI filled.
 */
import { clientDatastore } from "../src/client/client-datastore.js";
import type { RunRecord } from "../runtime/metadata/records.js";
import { chromiumPath, launchChromium } from "../test/support/chromium.js";
import { startUiServer, type UiServer } from "../src/ui/ui-server.js";
import { assertSucceeded, median, runCli, tempWorkspace } from "./cli-process.js";
import type { Measurement } from "./context.js";

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

async function withUi<T>(root: string, fn: (ui: UiServer) => Promise<T>): Promise<T> {
  const ui = await startUiServer(await clientDatastore({ kind: "local", root }), { port: 0, host: "127.0.0.1" });
  try {
    return await fn(ui);
  } finally {
    await ui.close();
  }
}

interface NavigationPhases {
  firstByte: number;
  received: number;
  parsed: number;
  loaded: number;
}

/** Evaluated in the page (a string: bench/ is type-checked without the DOM's types): where its load went, by the browser's own navigation timing. */
const NAVIGATION_PHASES = `(() => {
  const entry = performance.getEntriesByType("navigation")[0];
  return { firstByte: entry.responseStart, received: entry.responseEnd, parsed: entry.domInteractive, loaded: entry.loadEventEnd };
})()`;

const runPage10k: Measurement = {
  id: "ui-run-10k",
  description: "flowrun ui: the run page of a 10,000-split run, loaded in chromium",
  slow: true,
  async run(ctx) {
    const measurement = "ui: run page of a 10,000-split run, load in chromium";
    if (!chromiumPath) return [{ measurement, value: null, unit: "s", notes: ["not measured: chromium is not installed (apt-get install chromium)"] }];
    const ws = tempWorkspace("ui-10k");
    try {
      ctx.log("ui: a foreach of 10,000 splits to show");
      const cli = await runCli({ flow: "bench/flows/TrivialForeachFlow.ts", args: ["--splits", "10000", "--max-num-splits", "10000", ...ctx.extraArgs], workspace: ws.dir });
      assertSucceeded(cli, "foreach of 10,000 splits");
      return await withUi(cli.datastoreRoot, async (ui) => {
        const url = `${ui.url}/runs/TrivialForeachFlow/${cli.runId}`;
        const html: Array<{ ms: number; value: string }> = [];
        for (let i = 0; i < 6; i++) html.push(await timed(async () => (await fetch(url)).text()));
        const serverMs = median(html.slice(1).map((h) => h.ms)); // the first fetch warms the server
        const bytes = Buffer.byteLength(html[0]!.value);
        const browser = await launchChromium();
        try {
          const loads: number[] = [];
          const phases: NavigationPhases[] = [];
          let bars = { rects: 0, tasks: 0 };
          for (let i = 0; i < 6; i++) {
            const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
            const load = await timed(async () => {
              await page.goto(url, { waitUntil: "load" });
              await page.waitForSelector("svg.dag g.step");
              await page.waitForSelector("svg.timeline rect.bar");
              // A bar may stand for several tasks too narrow to draw apart (data-count).
              return page.locator("svg.timeline rect.bar.run").evaluateAll((rects) => ({ rects: rects.length, tasks: rects.reduce((n, r) => n + Number(r.getAttribute("data-count") ?? 1), 0) }));
            });
            bars = load.value;
            if (i > 0) { // the first load warms the browser
              loads.push(load.ms / 1000);
              phases.push(await page.evaluate<NavigationPhases>(NAVIGATION_PHASES));
            }
            await page.close();
          }
          if (bars.tasks < 10_000) throw new Error(`the timeline drew ${bars.tasks} tasks, not 10,000`);
          const phase = (name: keyof NavigationPhases) => median(phases.map((p) => p[name])).toFixed(0);
          return [
            {
              measurement, value: median(loads), unit: "s", target: { op: "<=", value: 2 },
              notes: [
                `median of ${loads.length} loads after a warm-up, from navigation to the load event with the DAG and the timeline drawn (its ${bars.tasks.toLocaleString("en-US")} tasks in ${bars.rects.toLocaleString("en-US")} bars: neighbours too narrow to tell apart share one); samples ${loads.map((s) => s.toFixed(2)).join(", ")} s`,
                `in the page (navigation timing, medians, ms from its start): first byte ${phase("firstByte")}, HTML received ${phase("received")}, parsed ${phase("parsed")}, load event ended ${phase("loaded")}`,
              ],
            },
            { measurement: "  its HTML from the server", value: serverMs, unit: "ms", notes: [`median of 5 fetches after a warm-up; ${(bytes / 1024 / 1024).toFixed(1)} MB of HTML`] },
          ];
        } finally {
          await browser.close();
        }
      });
    } finally {
      ws.dispose();
    }
  },
};

const FLOWS = ["TrainFlow", "ScoreFlow", "EtlFlow", "ReportFlow"];

const runsApi: Measurement = {
  id: "ui-runs-api",
  description: "flowrun ui: GET /api/runs over a datastore of 1,000 runs",
  async run(ctx) {
    const ws = tempWorkspace("ui-runs");
    try {
      ctx.log("ui: one real run, copied into 1,000 run records");
      const cli = await runCli({ flow: "flows/Hello.ts", args: ctx.extraArgs, workspace: ws.dir });
      assertSucceeded(cli, "Hello");
      const store = await clientDatastore({ kind: "local", root: cli.datastoreRoot });
      const [template] = await store.metadata.listRuns();
      const base = Date.parse(template!.createdAt);
      for (let i = 1; i < 1000; i++) {
        const createdAt = new Date(base + i * 60_000);
        const run: RunRecord = {
          ...template!,
          flow: FLOWS[i % FLOWS.length]!,
          runId: `${createdAt.getTime()}-${i.toString(16).padStart(6, "0")}`,
          status: i % 7 === 0 ? "failed" : "succeeded",
          createdAt: createdAt.toISOString(),
          finishedAt: new Date(createdAt.getTime() + 1500 + (i % 13) * 100).toISOString(),
          tags: i % 5 === 0 ? ["nightly", `batch-${i % 3}`] : [],
        };
        await store.metadata.createRun(run);
      }
      return await withUi(cli.datastoreRoot, async (ui) => {
        const sample = async (query: string, expectedTotal: number) => {
          const times: number[] = [];
          for (let i = 0; i < 22; i++) {
            const { ms, value } = await timed(async () => (await fetch(`${ui.url}/api/runs${query}`)).json() as Promise<{ total: number; runs: unknown[] }>);
            if (value.total !== expectedTotal) throw new Error(`/api/runs${query} counted ${value.total} runs, not ${expectedTotal}`);
            if (i >= 2) times.push(ms);
          }
          return median(times);
        };
        const failedTrain = Array.from({ length: 999 }, (_, j) => j + 1).filter((i) => i % FLOWS.length === 0 && i % 7 === 0).length;
        return [
          { measurement: "ui: runs API, 1,000 runs, first page of 50", value: await sample("", 1000), unit: "ms", target: { op: "<=", value: 300 }, notes: ["median of 20 requests after 2 warm-ups; the server lists the run records and their tags, newest first"] },
          { measurement: "ui: runs API, 1,000 runs, filtered (flow and status)", value: await sample(`?flow=${FLOWS[0]}&status=failed`, failedTrain), unit: "ms", target: { op: "<=", value: 300 } },
        ];
      });
    } finally {
      ws.dispose();
    }
  },
};

export const uiMeasurements: Measurement[] = [runsApi, runPage10k];
