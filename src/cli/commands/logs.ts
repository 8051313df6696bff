/**
 * `flowrun logs PATHSPEC [--stderr] [--attempt N]`: a task's output; for a step or run, every
 * task's, prefixed. A failed attempt's stderr ends with its error.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Run, type LogOptions, type Task } from "../../client/objects.js";
import { namespace } from "../../client/namespace.js";
import { UsageError } from "../../core/errors.js";
import { intOption } from "../argv.js";
import type { LogStream } from "../../../runtime/metadata/metadata-store.js";
import { parseInspectArgs, parsePathspec } from "./inspect-args.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv, { stderr: {}, stdout: {}, attempt: { value: true } });
  const spec = parsePathspec(args.positionals[0], "logs");
  if (!spec.runId) throw new UsageError("flowrun logs needs at least Flow/runId");
  const attempt = args.options.attempt === undefined ? undefined : intOption(args, "attempt", 0, 0);
  if (attempt !== undefined && !spec.taskId) throw new UsageError("--attempt needs a task: Flow/runId/step/taskId", { hint: "`flowrun dump Flow/runId/step` lists a step's tasks" });
  namespace(null); // an explicit pathspec is readable whatever the namespace
  const run = await Run.get(`${spec.flow}/${spec.runId}`, { datastore: args.datastore });
  const steps = spec.step ? [await run.step(spec.step)] : await run.steps();
  const tasks = (await Promise.all(steps.map((s) => s.tasks()))).flat().filter((t) => !spec.taskId || t.id === spec.taskId);
  if (spec.taskId && tasks.length === 0) throw new UsageError(`task ${spec.flow}/${spec.runId}/${spec.step}/${spec.taskId} does not exist`);
  const streams: LogStream[] = args.options.stderr ? ["stderr"] : args.options.stdout ? ["stdout"] : ["stdout", "stderr"];
  const bare = tasks.length === 1 && streams.length === 1;
  // One chunk in the pipe at a time: stdout's backpressure paces the reads, so memory stays
  // flat whatever the log's size. A reader that goes away (`| head`) just ends the command.
  const output = Readable.from(textOf(tasks, streams, bare, { attempt }), { objectMode: true, highWaterMark: 1 });
  try {
    await pipeline(output, process.stdout, { end: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPIPE") throw error;
  }
  return 0;
}

async function* textOf(tasks: Task[], streams: LogStream[], bare: boolean, options: LogOptions): AsyncGenerator<string> {
  for (const task of tasks) {
    for (const stream of streams) yield* bare ? task.streamLog(stream, options) : prefixedLines(task, stream, options);
  }
}

/** Every line of the stream as `[pathspec] line`; a line split across stored chunks is joined first. */
async function* prefixedLines(task: Task, stream: LogStream, options: LogOptions): AsyncGenerator<string> {
  const prefix = `[${task.pathspec}]${stream === "stderr" ? " (stderr)" : ""} `;
  let partial = "";
  for await (const chunk of task.streamLog(stream, options)) {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    if (lines.length > 0) yield lines.map((line) => `${prefix}${line}\n`).join("");
  }
  if (partial) yield `${prefix}${partial}\n`;
}
