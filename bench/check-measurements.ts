/**
 * `flowrun check` as a user types it, with the graph cache warm (the flow parsed before,
 * unchanged since: no TypeScript compiler loads) and cold (an empty cache: the compiler
 * loads and parses the flow).
 */
import { spawnSync } from "node:child_process";
import { REPO_ROOT, formatSamples, median, tempWorkspace } from "./cli-process.js";
import type { Measurement } from "./context.js";

const FLOW = "flows/ArxivAbstractTopicModel.ts";

/** Wall seconds of one `flowrun check FLOW` with its caches under `cacheHome`. */
function timeCheck(cacheHome: string): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, ["dist/src/cli/main.js", "check", FLOW], {
    cwd: REPO_ROOT,
    env: { ...process.env, XDG_CACHE_HOME: cacheHome },
    encoding: "utf8",
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`flowrun check ${FLOW} exited with ${result.status}: ${(result.stderr || result.stdout).trim().split("\n")[0]}`);
  return seconds;
}

const check: Measurement = {
  id: "check",
  description: "`flowrun check` of the arXiv flow, graph cache warm and cold: wall clock",
  async run(ctx) {
    const ws = tempWorkspace("check");
    try {
      const cold: number[] = [];
      for (let i = 0; i < ctx.repeat; i++) cold.push(timeCheck(`${ws.dir}/cold-${i}`));
      timeCheck(`${ws.dir}/warm`);
      const warm: number[] = [];
      for (let i = 0; i < ctx.repeat; i++) warm.push(timeCheck(`${ws.dir}/warm`));
      return [
        {
          measurement: "flowrun check (warm cache): wall",
          value: median(warm),
          unit: "s",
          target: { op: "<=", value: 0.25 },
          notes: [`median of ${warm.length}${formatSamples(warm, "s")}; ${FLOW}, parsed once before: no TypeScript compiler loads`],
        },
        {
          measurement: "flowrun check (cold cache): wall",
          value: median(cold),
          unit: "s",
          notes: [`median of ${cold.length}${formatSamples(cold, "s")}; an empty cache: the TypeScript compiler loads and parses the flow`],
        },
      ];
    } finally {
      ws.dispose();
    }
  },
};

export const checkMeasurements: Measurement[] = [check];
