/**
 * `flowrun card view PATHSPEC [--out FILE]`: a task's card as one self-contained HTML file
 * (default `<Flow>-<runId>-<step>-<taskId>.card.html` here); a step with one task will do.
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { clientDatastore } from "../../client/client-datastore.js";
import { readTaskCard } from "../../client/task-card.js";
import { NotFoundError, UsageError } from "../../core/errors.js";
import { cardDocument } from "../../ui/card-document.js";
import { taskCardHtml } from "../../ui/task-card-html.js";
import { stringOption } from "../argv.js";
import { parseInspectArgs, parsePathspec } from "./inspect-args.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv, { out: { value: true } });
  const [action, pathspec, ...more] = args.positionals;
  if (action !== "view") throw new UsageError(action ? `unknown card command "${action}"` : "flowrun card needs a command", { hint: "flowrun card view Flow/runId/step[/taskId] [--out FILE]" });
  if (more.length > 0) throw new UsageError(`unexpected argument "${more[0]}"`, { hint: "flowrun card view Flow/runId/step[/taskId] [--out FILE]" });
  const spec = parsePathspec(pathspec, "card view");
  if (!spec.runId || !spec.step) throw new UsageError("flowrun card view needs a step or a task: Flow/runId/step[/taskId]");
  const store = await clientDatastore(args.datastore);
  const where = `${spec.flow}/${spec.runId}/${spec.step}`;
  if (!(await store.metadata.getRun(spec.flow, spec.runId))) throw new NotFoundError(`no run ${spec.flow}/${spec.runId} in ${args.datastore.root}`, { hint: "`flowrun runs --all-namespaces` lists the runs there" });
  const tasks = await store.metadata.listTasks(spec.flow, spec.runId, spec.step);
  const task = spec.taskId ? tasks.find((t) => t.taskId === spec.taskId) : tasks.length === 1 ? tasks[0] : undefined;
  if (!task) {
    if (spec.taskId || tasks.length === 0) throw new NotFoundError(`no task ${spec.taskId ? `${where}/${spec.taskId}` : `in ${where}`}`, { where, hint: "`flowrun dump Flow/runId` lists the run's steps" });
    throw new UsageError(`${where} has ${tasks.length} tasks; name one`, { hint: `e.g. flowrun card view ${where}/${tasks[0]!.taskId}` });
  }
  const pathspecOfTask = `${where}/${task.taskId}`;
  const card = await readTaskCard(store.metadata, store.content, task);
  if (!card) {
    throw new NotFoundError(`${pathspecOfTask} has no card`, {
      where: pathspecOfTask,
      hint: "a step makes one with current.card.append(...) or @card; `flowrun run FLOW --with card` gives every step one",
    });
  }
  const out = resolve(stringOption(args, "out") ?? `${spec.flow}-${spec.runId}-${spec.step}-${task.taskId}.card.html`);
  const subtitle = `${task.status} · card of ${card.updatedAt.toISOString().replace("T", " ").slice(0, 19)}`;
  await writeFile(out, cardDocument(pathspecOfTask, await taskCardHtml(store.content, task, card), subtitle));
  process.stdout.write(`${out}\n`);
  return 0;
}
