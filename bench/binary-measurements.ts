/**
 * The single executable (`make binary`): its size, and a cold `run flows/Hello.ts` with it (the
 * first start, which unpacks the runtime, and later ones) against the npm package's CLI
 * (`node dist/src/cli/main.js`) on the same flow in the same invocation. Both run in an empty
 * directory with their own datastore; the target is later starts within 1.2x of the npm CLI.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { median, tempWorkspace } from "./cli-process.js";
import type { Measurement } from "./context.js";
import type { BenchRow } from "./table.js";

const REPO = new URL("..", import.meta.url).pathname;
const BINARY = join(REPO, "dist", `flowrun-${process.platform}-${process.arch}`);

function timedRun(command: string, args: string[], cwd: string, env: Record<string, string>): number {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
  return performance.now() - started;
}

const binaryStart: Measurement = {
  id: "binary",
  description: "make binary's executable: size, and a cold run of flows/Hello.ts (first start with unpacking, later ones) against the npm CLI",
  async run(ctx): Promise<BenchRow[]> {
    if (!existsSync(BINARY)) {
      const missing = ["dist/flowrun-linux-x64 not built: run `make binary` first"];
      return [{ measurement: "binary: size", value: null, unit: "MB", notes: missing }];
    }
    const ws = tempWorkspace("binary");
    try {
      const project = join(ws.dir, "project");
      mkdirSync(join(project, "flows"), { recursive: true });
      copyFileSync(join(REPO, "flows", "Hello.ts"), join(project, "flows", "Hello.ts"));
      const env = { XDG_CACHE_HOME: join(ws.dir, "cache"), FLOWRUN_DATASTORE: "local", FLOWRUN_DATASTORE_ROOT: join(ws.dir, "datastore") };
      const args = ["run", "flows/Hello.ts", "--quiet"];
      ctx.log("binary: first start (unpacks the runtime)");
      const firstMs = timedRun(BINARY, args, project, env);
      const later: number[] = [];
      const npm: number[] = [];
      for (let i = 0; i < Math.max(3, ctx.repeat); i++) {
        ctx.log(`binary: later start and npm CLI (${i + 1})`);
        later.push(timedRun(BINARY, args, project, env));
        npm.push(timedRun(process.execPath, [join(REPO, "dist", "src", "cli", "main.js"), ...args], project, env));
      }
      const laterMs = median(later);
      const npmMs = median(npm);
      const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(", ");
      return [
        { measurement: "binary: size", value: statSync(BINARY).size / 1024 / 1024, unit: "MB", notes: [`Node ${process.version} itself is ${(statSync(process.execPath).size / 1024 / 1024).toFixed(0)} MB of it`] },
        { measurement: "binary: first cold run of Hello (unpacks)", value: firstMs / 1000, unit: "s", notes: ["unpacks the runtime into an empty cache directory, then runs"] },
        {
          measurement: "binary: later cold run of Hello",
          value: laterMs / 1000,
          unit: "s",
          target: { op: "<=", value: (npmMs * 1.2) / 1000, qualifier: "(1.2x the npm CLI's)" },
          notes: [`npm CLI (node dist/src/cli/main.js) in the same invocation: ${(npmMs / 1000).toFixed(2)} s, ratio ${(laterMs / npmMs).toFixed(2)}x`, `samples: binary ${list(later)} ms; npm CLI ${list(npm)} ms`],
        },
      ];
    } finally {
      ws.dispose();
    }
  },
};

export const binaryMeasurements: Measurement[] = [binaryStart];
