/** `flowrun logs PATHSPEC [--stderr]`: a task's output; for a step or run, every task's, prefixed. */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Run, type Task } from "../../client/objects.js";
import { namespace } from "../../client/namespace.js";
import { UsageError } from "../../errors.js";
import type { LogStream } from "../../../runtime/metadata/metadata-store.js";
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
  const streams: LogStream[] = args.options.stderr ? ["stderr"] : args.options.stdout ? ["stdout"] : ["stdout", "stderr"];
  const bare = tasks.length === 1 && streams.length === 1;
  // One chunk in the pipe at a time: stdout's backpressure paces the reads, so memory stays
  // flat whatever the log's size. A reader that goes away (`| head`) just ends the command.
  const output = Readable.from(textOf(tasks, streams, bare), { objectMode: true, highWaterMark: 1 });
  try {
    await pipeline(output, process.stdout, { end: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPIPE") throw error;
  }
  return 0;
}

async function* textOf(tasks: Task[], streams: LogStream[], bare: boolean): AsyncGenerator<string> {
  for (const task of tasks) {
    for (const stream of streams) yield* bare ? task.streamLog(stream) : prefixedLines(task, stream);
  }
}

/** Every line of the stream as `[pathspec] line`; a line split across stored chunks is joined first. */
async function* prefixedLines(task: Task, stream: LogStream): AsyncGenerator<string> {
  const prefix = `[${task.pathspec}]${stream === "stderr" ? " (stderr)" : ""} `;
  let partial = "";
  for await (const chunk of task.streamLog(stream)) {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    if (lines.length > 0) yield lines.map((line) => `${prefix}${line}\n`).join("");
  }
  if (partial) yield `${prefix}${partial}\n`;
}
