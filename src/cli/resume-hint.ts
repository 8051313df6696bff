/** The `flowrun resume` command the CLI suggests for a run, and what `crashed` means. */
import { isAbsolute, relative } from "node:path";
import type { RunRecord } from "../../runtime/metadata/records.js";
import { stringOption, type ParsedArgs } from "./argv.js";
import { cliName } from "./cli-name.js";

/** The datastore options a command was given, to repeat in the commands it suggests. */
export function datastoreFlags(args: ParsedArgs): string {
  return [
    args.options.datastore ? `--datastore ${stringOption(args, "datastore")}` : "",
    args.options["datastore-root"] ? `--datastore-root ${stringOption(args, "datastore-root")}` : "",
  ].filter(Boolean).join(" ");
}

/** Runs recorded before flow files were project-relative hold an absolute path: show it from here. */
export function displayFlowFile(flowFile: string): string {
  return isAbsolute(flowFile) ? relative(process.cwd(), flowFile) || flowFile : flowFile;
}

export function crashedHint(run: Pick<RunRecord, "flowFile" | "runId">, flags = ""): string {
  const command = `${cliName()} resume ${displayFlowFile(run.flowFile)} --origin-run-id ${run.runId}${flags ? ` ${flags}` : ""}`;
  return `crashed: the process that ran it stopped without finishing (killed, or its machine went down); resume it with \`${command}\``;
}
