/**
 * A warm `check` (and `show`, `run`, `--help`) loads no TypeScript compiler: the graph and
 * the lint findings of an unchanged flow come from the cache, and say the same as a cold
 * check. Editing the flow re-parses.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

const root = new URL("..", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "flowrun-graph-cache-"));
after(() => rmSync(work, { recursive: true, force: true }));

const CHECK = `
import { createRequire } from "node:module";
const { checkFlowCached } = await import(${JSON.stringify(new URL("../src/core/graph/graph-cache.ts", import.meta.url).href)});
const { issues, graph } = await checkFlowCached(process.argv[1]);
const compilerLoaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes("/node_modules/typescript/"));
console.log(JSON.stringify({ compilerLoaded, steps: graph.steps.size, issues: issues.map((i) => i.code) }));
`;

function check(flow: string): { compilerLoaded: boolean; steps: number; issues: string[] } {
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", CHECK, flow], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: join(work, "cache") },
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!);
}

test("a second check of an unchanged flow loads no compiler and finds the same", () => {
  const flow = join(work, "LintedFlow.ts");
  copyFileSync(join(root, "test/fixtures/graphs/nested-foreach.ts"), flow);
  const cold = check(flow);
  assert.equal(cold.compilerLoaded, true, "the first check parses");
  const warm = check(flow);
  assert.equal(warm.compilerLoaded, false, "the second reads the cache");
  assert.deepEqual(warm.issues, cold.issues);
  assert.equal(warm.steps, cold.steps);

  writeFileSync(flow, `${readFileSync(flow, "utf8")}\n// edited\n`);
  assert.equal(check(flow).compilerLoaded, true, "an edited flow is parsed again");
});
