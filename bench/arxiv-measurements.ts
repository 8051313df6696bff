/**
 * The main job: ArxivAbstractTopicModel on all 11,756 bundled abstracts (`--no-test-mode`),
 * with its default topic counts. Rows: wall clock and peak RSS of the whole `flowrun run`,
 * and the model-fitting time of each foreach split (the `seconds` the fit step records).
 */
import { assertSucceeded, runCli, tempWorkspace } from "./cli-process.js";
import type { Measurement } from "./context.js";
import type { BenchRow } from "./table.js";
import { openRun, stepTasks } from "./task-timing.js";

export const arxivMeasurements: Measurement[] = [
  {
    id: "arxiv-full",
    description: "ArxivAbstractTopicModel on the full bundled data: wall, peak RSS, fit time per split",
    slow: true,
    async run(ctx) {
      const workspace = tempWorkspace("arxiv");
      try {
        ctx.log("arXiv topic model, full data (a few minutes)");
        const run = await runCli({ flow: "flows/ArxivAbstractTopicModel.ts", args: ["--no-test-mode", ...ctx.extraArgs], workspace: workspace.dir });
        assertSucceeded(run, "the arXiv flow");
        const stored = await openRun(run.datastoreRoot, "ArxivAbstractTopicModel", run.runId!);
        const rows: BenchRow[] = [
          { measurement: "arXiv flow, full data: wall", value: run.wallMs / 1000, unit: "s", notes: [`11,756 abstracts, topic counts 5, 10, 20 fitted in parallel; CPU ${run.cpuS?.toFixed(1) ?? "?"} s`] },
          { measurement: "arXiv flow, full data: peak RSS", value: run.peakRssMb, unit: "MB" },
        ];
        for (const task of await stepTasks(stored, "fit")) {
          const row = await task.artifact<{ k: number; seconds: number }>("row");
          rows.push({ measurement: `arXiv flow: fit k=${row.k}`, value: row.seconds, unit: "s", notes: ["collapsed Gibbs sampling, 200 sweeps, measured inside the split (splits share 2 cores)"] });
        }
        return rows;
      } finally {
        workspace.dispose();
      }
    },
  },
];
