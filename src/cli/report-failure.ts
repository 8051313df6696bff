/** How a failed run is told: the task, its error with the user's own frames first, what to type next. */
import { fileURLToPath } from "node:url";
import type { RunFlowResult } from "../../runtime/run-flow.js";
import { cliName } from "./cli-name.js";

// This file is <root>/src/cli (or <root>/dist/src/cli once built): flowrun's own code is
// under <root>/src, <root>/runtime and <root>/dist.
const ROOT = fileURLToPath(new URL(import.meta.url.includes("/dist/src/") ? "../../../" : "../../", import.meta.url));
const FLOWRUN_DIRS = ["src/", "runtime/", "dist/"].map((dir) => `${ROOT}${dir}`);

/** Stack frames from flowrun itself, its dependencies or Node internals say nothing about the user's bug. */
export function userFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  return stack
    .split("\n")
    // A frame without a file (`at async Promise.all (index 1)`) points at nothing to open.
    .filter((line) => /^\s+at .*[/\\]/.test(line))
    .filter((line) => !/node:internal|node_modules\//.test(line) && !FLOWRUN_DIRS.some((dir) => line.includes(dir)))
    .slice(0, 5);
}

/** `flags`: the datastore options the run was given, repeated in the suggested commands. */
export function printFailure(result: RunFlowResult, flowFile: string, flags = ""): void {
  // The run's own record failed to update last (a full disk): report it after the task's failure.
  const runPathspec = `${result.flow}/${result.runId}`;
  const recordFailure = result.failures.find((f) => f.pathspec === runPathspec);
  const failure = result.failures.find((f) => f !== recordFailure);
  const out: string[] = [];
  if (failure) {
    const { error } = failure;
    out.push(`  ${failure.pathspec}: ${error.name === "Error" ? "" : `${error.name}: `}${error.message}`);
    out.push(...userFrames(error.stack).map((line) => `    ${line.trim()}`));
    if (error.hint) out.push(`  hint: ${error.hint}`);
    out.push(`  Logs:   ${cliName()} logs ${failure.pathspec}${flags}`);
  }
  if (recordFailure) {
    out.push(`  ${runPathspec}: ${recordFailure.error.message}`);
    out.push("  The run could not be marked as ended, so it still shows as running; the tasks that finished are kept.");
  }
  if (result.status === "cancelled") out.push("  The run was cancelled; the tasks that finished are kept.");
  out.push(`  Resume: ${cliName()} resume ${flowFile} --origin-run-id ${result.runId}${flags}`);
  process.stderr.write(`${out.join("\n")}\n`);
}
