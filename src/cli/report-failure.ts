/** How a failed run is told: the task, its error with the user's own frames first, what to type next. */
import type { RunFlowResult } from "../../runtime/run-flow.js";

/** Stack frames from flowrun itself or Node internals say nothing about the user's bug. */
export function userFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  return stack
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .filter((line) => !/node:internal|node_modules\/(piscina|tsx)|\/runtime\/(worker|scheduler|executor)\//.test(line))
    .slice(0, 5);
}

export function printFailure(result: RunFlowResult, flowFile: string): void {
  const failure = result.failures[0];
  const out: string[] = [];
  if (failure) {
    const { error } = failure;
    out.push(`  ${failure.pathspec}: ${error.name === "Error" ? "" : `${error.name}: `}${error.message}`);
    out.push(...userFrames(error.stack).map((line) => `    ${line.trim()}`));
    if (error.hint) out.push(`  hint: ${error.hint}`);
    out.push(`  Logs:   flowrun logs ${failure.pathspec}`);
  }
  if (result.status === "cancelled") out.push("  The run was cancelled; the tasks that finished are kept.");
  out.push(`  Resume: flowrun resume ${flowFile} --origin-run-id ${result.runId}`);
  process.stderr.write(`${out.join("\n")}\n`);
}
