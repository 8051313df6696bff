/** How a failed run is told: the task, its error with the user's own frames first, what to type next. */
import type { RunFlowResult } from "../../runtime/run-flow.js";
import { userFrames } from "../core/user-frames.js";
import { cliName } from "./cli-name.js";

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
