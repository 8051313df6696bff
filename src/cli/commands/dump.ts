/**
 * `flowrun dump PATHSPEC [--artifact NAME] [--json]`: artifacts of a task (a run: its end
 * task; a step: each task). `--file NAME [--out PATH]`: the bytes of a file a task put.
 */
import { createReadStream } from "node:fs";
import { copyFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { inspect } from "node:util";
import { Run, type Task } from "../../client/objects.js";
import { namespace } from "../../client/namespace.js";
import { UsageError } from "../../core/errors.js";
import { describeFailure } from "../../core/user-frames.js";
import { crashedHint, datastoreFlags } from "../resume-hint.js";
import { parseInspectArgs, parsePathspec } from "./inspect-args.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv, { artifact: { value: true }, json: {}, file: { value: true }, out: { value: true } });
  const spec = parsePathspec(args.positionals[0], "dump");
  if (!spec.runId) throw new UsageError("flowrun dump needs at least Flow/runId");
  namespace(null);
  const run = await Run.get(`${spec.flow}/${spec.runId}`, { datastore: args.datastore });
  let tasks: Task[];
  const file = typeof args.options.file === "string" ? args.options.file : undefined;
  if (!spec.step && file) {
    tasks = [await run.endTask()];
  } else if (!spec.step) {
    process.stdout.write(`${run.pathspec}  ${run.status}  parameters ${JSON.stringify(run.parameters)}\n`);
    if (run.status === "crashed") process.stdout.write(`  ${crashedHint(run.metadata, datastoreFlags(args))}\n`);
    const error = run.metadata.error;
    if (error) process.stdout.write(`  failed: ${error.pathspec ? `${error.pathspec}: ` : ""}${error.name}: ${error.message}\n`);
    process.stdout.write(`steps: ${(await run.steps()).map((s) => s.name).join(", ")}\n`);
    if (!run.successful) return 0;
    tasks = [await run.endTask()];
  } else {
    const step = await run.step(spec.step);
    tasks = spec.taskId ? [await step.task(spec.taskId)] : await step.tasks();
  }
  if (file) return dumpFile(tasks, file, typeof args.options.out === "string" ? args.options.out : undefined);
  if (args.options.out !== undefined) throw new UsageError("--out goes with --file NAME", { hint: "flowrun dump Flow/runId/step/taskId --file NAME --out PATH" });
  const name = typeof args.options.artifact === "string" ? args.options.artifact : undefined;
  for (const task of tasks) {
    const values = name ? { [name]: await task.artifact(name) } : await task.artifacts();
    const exception = task.exception;
    if (args.options.json) {
      const entry = { task: task.pathspec, artifacts: values, ...(exception ? { exception } : {}) };
      process.stdout.write(`${JSON.stringify(entry, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}\n`);
      continue;
    }
    process.stdout.write(`${task.pathspec}${task.successful ? "" : task.metadata.status === "failed" ? " (failed)" : " (not successful)"}\n`);
    // A failed task has no artifacts: why it failed is what there is to see.
    if (exception) process.stdout.write(describeFailure(exception).map((line, i) => (i === 0 ? `  exception: ${line}\n` : `  ${line}\n`)).join(""));
    for (const [key, value] of Object.entries(values)) {
      process.stdout.write(`  ${key} = ${inspect(value, { depth: 3, maxArrayLength: 20, maxStringLength: 400, breakLength: 100 }).replace(/\n/g, "\n    ")}\n`);
    }
  }
  return 0;
}

/** Copies the file to `out` (streamed; a local path is copied by the file system), or streams it to standard output. */
async function dumpFile(tasks: Task[], name: string, out: string | undefined): Promise<number> {
  if (tasks.length !== 1) {
    throw new UsageError(`--file reads one task's file, and ${tasks[0]?.pathspec.split("/").slice(0, 3).join("/")} has ${tasks.length} tasks`, {
      hint: `name one: ${tasks.slice(0, 3).map((t) => t.pathspec).join(", ")}${tasks.length > 3 ? ", ..." : ""}`,
    });
  }
  const path = await tasks[0]!.file(name);
  if (out) await copyFile(path, out);
  else await pipeline(createReadStream(path), process.stdout, { end: false });
  return 0;
}
