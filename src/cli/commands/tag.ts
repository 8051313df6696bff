/** `flowrun tag add|remove PATHSPEC TAG...`: user tags on a run (system tags cannot be removed). */
import { clientDatastore } from "../../client/client-datastore.js";
import { NotFoundError, UsageError } from "../../errors.js";
import { parseInspectArgs, parsePathspec } from "./inspect-args.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv);
  const [action, pathspec, ...tags] = args.positionals;
  if (action !== "add" && action !== "remove") throw new UsageError("usage: flowrun tag add|remove Flow/runId TAG...");
  const spec = parsePathspec(pathspec, "tag");
  if (!spec.runId || spec.step) throw new UsageError("tags apply to runs: pass Flow/runId");
  if (tags.length === 0) throw new UsageError(`flowrun tag ${action} needs at least one tag`);
  const store = await clientDatastore(args.datastore);
  const record = await store.metadata.getRun(spec.flow, spec.runId);
  if (!record) throw new NotFoundError(`run ${pathspec} does not exist`, { hint: `\`flowrun runs ${spec.flow}\` lists its runs` });
  if (action === "remove") {
    const system = tags.filter((t) => record.systemTags.includes(t));
    if (system.length > 0) throw new UsageError(`${system.join(", ")} ${system.length === 1 ? "is a system tag" : "are system tags"} and cannot be removed`);
    record.tags = record.tags.filter((t) => !tags.includes(t));
  } else {
    record.tags = [...new Set([...record.tags, ...tags])];
  }
  await store.metadata.putRun(record);
  process.stdout.write(`${pathspec}: tags ${[...record.systemTags, ...record.tags].join(", ")}\n`);
  return 0;
}
