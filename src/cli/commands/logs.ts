/** `flowrun logs PATHSPEC [--stderr]`: a task's output; for a step or run, every task's, prefixed. */
import { Run } from "../../client/objects.js";
import { namespace } from "../../client/namespace.js";
import { UsageError } from "../../errors.js";
import { parseInspectArgs, parsePathspec } from "./inspect-args.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv, { stderr: {}, stdout: {} });
  const spec = parsePathspec(args.positionals[0], "logs");
  if (!spec.runId) throw new UsageError("flowrun logs needs at least Flow/runId");
  namespace(null); // an explicit pathspec is readable whatever the namespace
  const run = await Run.get(`${spec.flow}/${spec.runId}`, { datastore: args.datastore });
  const steps = spec.step ? [await run.step(spec.step)] : await run.steps();
  const tasks = (await Promise.all(steps.map((s) => s.tasks()))).flat().filter((t) => !spec.taskId || t.id === spec.taskId);
  if (spec.taskId && tasks.length === 0) throw new UsageError(`task ${spec.flow}/${spec.runId}/${spec.step}/${spec.taskId} does not exist`);
  const streams = args.options.stderr ? ["stderr"] : args.options.stdout ? ["stdout"] : ["stdout", "stderr"];
  for (const task of tasks) {
    for (const stream of streams) {
      const text = stream === "stdout" ? await task.stdout() : await task.stderr();
      if (!text) continue;
      if (tasks.length === 1 && streams.length === 1) process.stdout.write(text);
      else for (const line of text.replace(/\n$/, "").split("\n")) process.stdout.write(`[${task.pathspec}]${stream === "stderr" ? " (stderr)" : ""} ${line}\n`);
    }
  }
  return 0;
}
