/** Shared by the read-only commands: the datastore flags and pathspec parsing. */
import { datastoreConfig } from "../../core/datastore-config.js";
import { UsageError } from "../../core/errors.js";
export { checkPathspecPart, parsePathspec, type Pathspec } from "../../core/pathspec.js";
import { parseArgv, stringOption, type OptionSpec, type ParsedArgs } from "../argv.js";
import type { DatastoreConfig } from "../../core/datastore-config.js";
import { namespace } from "../../client/namespace.js";
import { didYouMean } from "../did-you-mean.js";

const DATASTORE_OPTIONS: Record<string, OptionSpec> = {
  datastore: { value: true },
  "datastore-root": { value: true },
  namespace: { value: true },
  "all-namespaces": {},
  debug: {},
};

export function parseInspectArgs(argv: string[], spec: Record<string, OptionSpec> = {}): ParsedArgs & { datastore: DatastoreConfig } {
  const options = { ...DATASTORE_OPTIONS, ...spec };
  const args = parseArgv(argv, options);
  if (args.extra.length > 0) {
    const { name } = args.extra[0]!;
    const suggestion = didYouMean(name, Object.keys(options), "--");
    throw new UsageError(`unknown option --${name}`, { hint: `${suggestion ? `${suggestion} ` : ""}options: ${Object.keys(options).map((o) => `--${o}`).join(" ")}` });
  }
  // Commands given an explicit pathspec read any namespace; `runs` filters by --namespace.
  if (args.options["all-namespaces"]) namespace(null);
  else if (typeof args.options.namespace === "string") namespace(args.options.namespace);
  return { ...args, datastore: datastoreConfig({ datastore: stringOption(args, "datastore"), root: stringOption(args, "datastore-root") }) };
}

