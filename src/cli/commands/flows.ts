/** `flowrun flows`: the flows with a run in the current namespace, with their latest run. */
import { clientDatastore } from "../../client/client-datastore.js";
import { getNamespace } from "../../client/namespace.js";
import { visibleRuns } from "../../client/visible-runs.js";
import type { RunRecord } from "../../../runtime/metadata/records.js";
import { observedStatus } from "../../../runtime/metadata/run-liveness.js";
import { UsageError } from "../../core/errors.js";
import { parseInspectArgs } from "./inspect-args.js";
import { printTable } from "./table.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`, { hint: "flowrun flows takes no arguments; `flowrun runs FLOW` lists a flow's runs" });
  const store = await clientDatastore(args.datastore);
  const byFlow = new Map<string, RunRecord[]>();
  // Newest first, so each flow's first run is its latest.
  for (const record of await visibleRuns(store.metadata)) {
    if (!byFlow.has(record.flow)) byFlow.set(record.flow, []);
    byFlow.get(record.flow)!.push(record);
  }
  if (byFlow.size === 0) {
    process.stdout.write(`no flows with runs in namespace ${JSON.stringify(getNamespace())} at ${args.datastore.root}\n  hint: --all-namespaces shows everyone's\n`);
    return 0;
  }
  const flows = [...byFlow].sort(([a], [b]) => a.localeCompare(b));
  const rows = await Promise.all(flows.map(async ([flow, runs]) => {
    const latest = runs[0]!;
    return [flow, String(runs.length), latest.runId, await observedStatus(store.metadata, latest), latest.createdAt.replace("T", " ").slice(0, 19)];
  }));
  printTable(["FLOW", "RUNS", "LATEST RUN", "STATUS", "STARTED"], rows);
  return 0;
}
