/** `flowrun runs [FLOW]`: runs in the current namespace, newest first. */
import { clientDatastore } from "../../client/client-datastore.js";
import { getNamespace } from "../../client/namespace.js";
import { visibleRuns } from "../../client/visible-runs.js";
import { formatDuration } from "../../../runtime/scheduler/progress-reporter.js";
import { observedStatus } from "../../../runtime/metadata/run-liveness.js";
import { crashedHint, datastoreFlags } from "../resume-hint.js";
import { checkPathspecPart, parseInspectArgs } from "./inspect-args.js";
import { printTable } from "./table.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv);
  const store = await clientDatastore(args.datastore);
  const flowName = args.positionals[0] === undefined ? undefined : checkPathspecPart("flow name", args.positionals[0]);
  const records = await visibleRuns(store.metadata, { flow: flowName });
  if (records.length === 0) {
    process.stdout.write(`no runs${flowName ? ` of ${flowName}` : ""} in namespace ${JSON.stringify(getNamespace())} at ${args.datastore.root}\n  hint: --all-namespaces shows everyone's runs\n`);
    return 0;
  }
  const statuses = await Promise.all(records.map((r) => observedStatus(store.metadata, r)));
  const rows = records.map((r, i) => {
    const duration = r.finishedAt ? formatDuration(Date.parse(r.finishedAt) - Date.parse(r.createdAt)) : "";
    return [`${r.flow}/${r.runId}`, statuses[i]!, r.createdAt.replace("T", " ").slice(0, 19), duration, r.user, [...r.tags].join(",")];
  });
  printTable(["RUN", "STATUS", "STARTED", "TOOK", "USER", "TAGS"], rows);
  // Newest first: the crashed run a user most likely wants back.
  const crashed = records[statuses.indexOf("crashed")];
  if (crashed) process.stdout.write(`\n${crashedHint(crashed, datastoreFlags(args))}\n`);
  return 0;
}
