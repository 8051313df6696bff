/**
 * `flowrun check <flow.ts>`: validates the graph and lints the suggested practices,
 * without running any of the flow's code. Exit 2 on an error; warnings never fail.
 * Also holds what `show` and `output-dot` share: argument handling and issue printing.
 */
import { FlowDefinitionError } from "../../core/errors.js";
import { checkFlowCached } from "../../core/graph/graph-cache.js";
import type { FlowGraph, GraphIssue } from "../../core/graph/types.js";

const EXIT_OK = 0;
const EXIT_INVALID = 2;

export async function run(args: string[]): Promise<number> {
  const loaded = await checkFromArgs("check", args);
  if (typeof loaded === "number") return loaded;
  const { graph, issues } = loaded;
  for (const issue of issues) console.log(formatIssue(issue));
  const errors = issues.filter((i) => i.severity === "error").length;
  const warnings = plural(issues.length - errors, "warning");
  if (errors > 0) {
    console.log(`✗ ${plural(errors, "error")}${warnings ? `, ${warnings}` : ""}`);
    return EXIT_INVALID;
  }
  console.log(`✓ Flow is valid: ${plural(graph.steps.size, "step")}${warnings ? ` (${warnings})` : ""}`);
  return EXIT_OK;
}

/** `file:line:col error [code] message` and an indented hint, like a compiler's diagnostics. */
export function formatIssue(issue: GraphIssue): string {
  const { file, line, column } = issue.loc;
  return `${file}:${line}:${column} ${issue.severity} [${issue.code}] ${issue.message}\n  hint: ${issue.hint}`;
}

/**
 * Loads the graph named by the one argument and fails like `check` when it has errors
 * (printed on stderr, so stdout stays the command's output). Returns an exit code instead
 * of a graph when the command should stop.
 */
export async function loadValidGraph(command: string, args: string[]): Promise<FlowGraph | number> {
  const loaded = await checkFromArgs(command, args);
  if (typeof loaded === "number") return loaded;
  const errors = loaded.issues.filter((i) => i.severity === "error");
  if (errors.length === 0) return loaded.graph;
  for (const issue of errors) console.error(formatIssue(issue));
  console.error(`✗ ${plural(errors.length, "error")}: run \`flowrun check ${loaded.file}\` for details`);
  return EXIT_INVALID;
}

async function checkFromArgs(command: string, args: string[]): Promise<{ graph: FlowGraph; issues: GraphIssue[]; file: string } | number> {
  const usage = `usage: flowrun ${command} <flow.ts>`;
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return EXIT_OK;
  }
  const unknown = args.find((a) => a.startsWith("-"));
  const files = args.filter((a) => !a.startsWith("-"));
  if (unknown || files.length !== 1) {
    const problem = unknown ? `unknown option ${unknown}` : files.length ? "expected one flow file" : "missing the flow file";
    console.error(`flowrun ${command}: ${problem}\n${usage}`);
    return EXIT_INVALID;
  }
  const file = files[0]!;
  try {
    return { ...(await checkFlowCached(file)), file };
  } catch (error) {
    if (!(error instanceof FlowDefinitionError)) throw error;
    console.error(error.oneLine());
    return EXIT_INVALID;
  }
}

function plural(n: number, word: string): string {
  return n === 0 ? "" : `${n} ${word}${n === 1 ? "" : "s"}`;
}
