/** `flowrun tag add|remove PATHSPEC TAG...`: user tags on a run (system tags cannot be added or removed). */
import { clientDatastore } from "../../client/client-datastore.js";
import { NotFoundError, UsageError } from "../../core/errors.js";
import { parseInspectArgs, parsePathspec } from "./inspect-args.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv);
  const [action, pathspec, ...tags] = args.positionals;
  if (action !== "add" && action !== "remove") throw new UsageError("usage: flowrun tag add|remove Flow/runId TAG...");
  const spec = parsePathspec(pathspec, "tag");
  if (!spec.runId || spec.step) throw new UsageError("tags apply to runs: pass Flow/runId");
  if (tags.length === 0) throw new UsageError(`flowrun tag ${action} needs at least one tag`);
  const { metadata } = await clientDatastore(args.datastore);
  if (!(await metadata.getRun(spec.flow, spec.runId))) {
    throw new NotFoundError(`run ${pathspec} does not exist`, { hint: `\`flowrun runs ${spec.flow}\` lists its runs` });
  }
  // Each tag is written or deleted on its own: never a read-modify-write of the run's record.
  if (action === "add") await metadata.addTags(spec.flow, spec.runId, tags);
  else await metadata.removeTags(spec.flow, spec.runId, tags);
  const record = (await metadata.getRun(spec.flow, spec.runId))!;
  process.stdout.write(`${pathspec}: tags ${[...record.systemTags, ...record.tags].join(", ")}\n`);
  return 0;
}
