/** `flowrun runs [FLOW] [--tag T]... [--status S] [--limit N]`: runs in the current namespace, newest first. */
import { clientDatastore } from "../../client/client-datastore.js";
import { getNamespace } from "../../client/namespace.js";
import { visibleRuns } from "../../client/visible-runs.js";
import { formatDuration } from "../../core/format-duration.js";
import { observedStatus } from "../../../runtime/metadata/run-liveness.js";
import { crashedHint, datastoreFlags } from "../resume-hint.js";
import { checkPathspecPart, parseInspectArgs } from "./inspect-args.js";
import { printTable } from "./table.js";
import { intOption, stringOption } from "../argv.js";
import { didYouMean } from "../did-you-mean.js";
import { DEFAULT_RUNS_LIMIT } from "../../core/config.js";
import { UsageError } from "../../core/errors.js";
import type { ObservedRunStatus } from "../../../runtime/metadata/records.js";

const STATUSES: readonly ObservedRunStatus[] = ["running", "succeeded", "failed", "cancelled", "crashed"];

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv, { tag: { value: true, repeat: true }, status: { value: true }, limit: { value: true } });
  const status = statusOption(stringOption(args, "status"));
  const limit = intOption(args, "limit", DEFAULT_RUNS_LIMIT);
  const store = await clientDatastore(args.datastore);
  const flowName = args.positionals[0] === undefined ? undefined : checkPathspecPart("flow name", args.positionals[0]);
  const visible = await visibleRuns(store.metadata, { flow: flowName, tags: args.options.tag as string[] | undefined });
  const observed = await Promise.all(visible.map(async (record) => ({ record, status: await observedStatus(store.metadata, record) })));
  const matching = status ? observed.filter((r) => r.status === status) : observed;
  if (matching.length === 0) {
    const which = [flowName && `of ${flowName}`, args.options.tag && "with those tags", status && `that are ${status}`].filter(Boolean).join(" ");
    process.stdout.write(`no runs${which ? ` ${which}` : ""} in namespace ${JSON.stringify(getNamespace())} at ${args.datastore.root}\n  hint: --all-namespaces shows everyone's runs\n`);
    return 0;
  }
  const shown = matching.slice(0, limit);
  const records = shown.map((r) => r.record);
  const statuses = shown.map((r) => r.status);
  const rows = records.map((r, i) => {
    const duration = r.finishedAt ? formatDuration(Date.parse(r.finishedAt) - Date.parse(r.createdAt)) : "";
    return [`${r.flow}/${r.runId}`, statuses[i]!, r.createdAt.replace("T", " ").slice(0, 19), duration, r.user, [...r.tags].join(",")];
  });
  printTable(["RUN", "STATUS", "STARTED", "TOOK", "USER", "TAGS"], rows);
  if (matching.length > shown.length) process.stdout.write(`(${shown.length} of ${matching.length} runs shown; --limit ${matching.length} shows all)\n`);
  // Newest first: the crashed run a user most likely wants back.
  const crashed = records[statuses.indexOf("crashed")];
  if (crashed) process.stdout.write(`\n${crashedHint(crashed, datastoreFlags(args))}\n`);
  return 0;
}

function statusOption(status: string | undefined): ObservedRunStatus | undefined {
  if (status === undefined || (STATUSES as readonly string[]).includes(status)) return status as ObservedRunStatus | undefined;
  throw new UsageError(`--status "${status}" is not a run status`, { hint: `${didYouMean(status, STATUSES) ?? ""} one of ${STATUSES.join(", ")}`.trim() });
}
