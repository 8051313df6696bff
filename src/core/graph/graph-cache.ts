/**
 * The parsed graph of a flow file (and what `check` finds in it), cached by content:
 * `run`, `check`, `show` and `--help` of an unchanged flow skip loading the TypeScript
 * compiler (~0.4 s of every start). The key covers the flow's path and source and the
 * parser's own files, so editing either re-parses.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { config } from "../config.js";
import { sortIssues } from "./issue.js";
import type { FlowGraph, GraphIssue, StepNode } from "./types.js";
import { validateGraph } from "./validate-graph.js";

const here = dirname(fileURLToPath(import.meta.url));

/** Covers the path as given (locations print it), the file, its source and the parser's own files. */
function cacheKey(path: string, file: string, source: string): string {
  const parser = readdirSync(here).map((name) => `${name}:${statSync(join(here, name)).mtimeMs}`).join(",");
  return createHash("sha256").update(`${path}\0${file}\0${parser}\0${source}`).digest("hex");
}

function readEntry<T>(entry: string): T | undefined {
  try {
    return JSON.parse(readFileSync(entry, "utf8")) as T;
  } catch {
    return undefined; // not cached yet (or unreadable)
  }
}

function writeEntry(entry: string, value: unknown): void {
  try {
    mkdirSync(dirname(entry), { recursive: true });
    const temp = `${entry}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(value));
    renameSync(temp, entry);
  } catch {
    // a read-only cache only costs the parse next time
  }
}

/**
 * `path`'s source and the cache files' common stem for it as it reads now; undefined when the
 * file cannot be read (the parser reports why).
 */
function cacheEntry(path: string): { source: string; stem: string } | undefined {
  const file = resolve(path);
  try {
    const source = readFileSync(file, "utf8");
    return { source, stem: join(config.graphCacheDir(), cacheKey(path, file, source)) };
  } catch {
    return undefined;
  }
}

async function graphOf(path: string, entry: ReturnType<typeof cacheEntry>): Promise<FlowGraph> {
  const file = entry && `${entry.stem}.json`;
  const cached = file && readEntry<Omit<FlowGraph, "steps"> & { steps: Array<[string, StepNode]> }>(file);
  if (cached) return { ...cached, steps: new Map(cached.steps) };
  const graph = (await import("./parse-flow.js")).loadFlowGraph(path);
  if (file) writeEntry(file, { ...graph, steps: [...graph.steps] });
  return graph;
}

export async function loadFlowGraphCached(path: string): Promise<FlowGraph> {
  return graphOf(path, cacheEntry(path));
}

/**
 * The graph and everything `flowrun check` reports on it (validation errors, lint
 * warnings), sorted. Lint reads the source with the TypeScript API, so its findings are
 * cached beside the graph: a warm `check` loads no compiler.
 */
export async function checkFlowCached(path: string): Promise<{ graph: FlowGraph; issues: GraphIssue[] }> {
  const entry = cacheEntry(path);
  const graph = await graphOf(path, entry);
  const file = entry && `${entry.stem}.lint.json`;
  let lint = file && readEntry<GraphIssue[]>(file);
  if (!lint) {
    const { lintFlow } = await import("./lint-flow.js");
    // `entry` is set: had the file been unreadable, graphOf's parse would have thrown.
    lint = lintFlow(graph, entry!.source);
    if (file) writeEntry(file, lint);
  }
  return { graph, issues: sortIssues([...validateGraph(graph), ...lint]) };
}
