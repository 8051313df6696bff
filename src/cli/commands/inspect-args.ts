/** Shared by the read-only commands: the datastore flags and pathspec parsing. */
import { datastoreConfig } from "../../datastore-config.js";
import { UsageError } from "../../errors.js";
import { parseArgv, stringOption, type OptionSpec, type ParsedArgs } from "../argv.js";
import type { DatastoreConfig } from "../../../runtime/datastore/storage-backend.js";
import { namespace } from "../../client/namespace.js";

const DATASTORE_OPTIONS: Record<string, OptionSpec> = {
  datastore: { value: true },
  "datastore-root": { value: true },
  namespace: { value: true },
  "all-namespaces": {},
  debug: {},
};

export function parseInspectArgs(argv: string[], spec: Record<string, OptionSpec> = {}): ParsedArgs & { datastore: DatastoreConfig } {
  const args = parseArgv(argv, { ...DATASTORE_OPTIONS, ...spec });
  if (args.extra.length > 0) throw new UsageError(`unknown option --${args.extra[0]!.name}`);
  // Commands given an explicit pathspec read any namespace; `runs` filters by --namespace.
  if (args.options["all-namespaces"]) namespace(null);
  else if (typeof args.options.namespace === "string") namespace(args.options.namespace);
  return { ...args, datastore: datastoreConfig({ datastore: stringOption(args, "datastore"), root: stringOption(args, "datastore-root") }) };
}

export interface Pathspec {
  flow: string;
  runId?: string;
  step?: string;
  taskId?: string;
}

export function parsePathspec(text: string | undefined, command: string): Pathspec {
  if (!text) throw new UsageError(`flowrun ${command} needs a pathspec`, { hint: "a pathspec looks like Flow/runId[/step[/taskId]]" });
  const [flow, runId, step, taskId, ...rest] = text.split("/");
  if (!flow || rest.length > 0 || [runId, step, taskId].some((p) => p === "")) {
    throw new UsageError(`"${text}" is not a pathspec`, { hint: "a pathspec looks like Flow/runId[/step[/taskId]]" });
  }
  return { flow, runId, step, taskId };
}
