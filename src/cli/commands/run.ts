/** `flowrun run <flow.ts> [options] [--<param> value]...` */
import { accessSync, constants, statSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { runFlow, type RunFlowResult } from "../../../runtime/run-flow.js";
import { ConsoleDisplay } from "../console-display.js";
import { formatDuration } from "../../core/format-duration.js";
import { DEFAULT_MAX_NUM_SPLITS, DEFAULT_MAX_WORKERS, redisUrl } from "../../core/config.js";
import { datastoreConfig, localDatastoreRoot } from "../../core/datastore-config.js";
import type { DatastoreConfig } from "../../core/datastore-config.js";
import { loadFlowGraphCached } from "../../core/graph/graph-cache.js";
import { ParameterError, UsageError } from "../../core/errors.js";
import { intOption, parseArgv, stringOption, type OptionSpec, type ParsedArgs } from "../argv.js";
import type { RunRecord } from "../../../runtime/metadata/records.js";
import { parseWithDecorators } from "../with-decorators.js";
import { didYouMean } from "../did-you-mean.js";
import { printFailure } from "../report-failure.js";
import { timingsTable } from "../timings-table.js";
import { cliName } from "../cli-name.js";
import { datastoreFlags } from "../resume-hint.js";
import type { RUN_OPTION_NAMES } from "../../core/flow/parameters.js";

export const RUN_OPTIONS: Record<(typeof RUN_OPTION_NAMES)[number], OptionSpec> = {
  production: {},
  branch: { value: true },
  tag: { value: true, repeat: true },
  "max-workers": { value: true },
  "max-num-splits": { value: true },
  datastore: { value: true },
  "datastore-root": { value: true },
  with: { value: true, repeat: true },
  "run-id-file": { value: true },
  quiet: { value: false },
  isolate: {},
  debug: {},
  timings: {},
  redis: { value: true },
};

export async function run(argv: string[]): Promise<number> {
  const flowFile = argv[0];
  if (!flowFile || flowFile.startsWith("--")) throw new UsageError("flowrun run needs a flow file", { hint: "flowrun run ./flows/Hello.ts" });
  const graph = await loadFlowGraphCached(flowFile);
  const params = new Map(graph.parameters.map((p) => [p.name, p]));
  const args = parseArgv(argv.slice(1), RUN_OPTIONS, (name) => {
    const param = params.get(name);
    if (!param) return undefined;
    return param.typeName === "Boolean" ? false : param.typeName ? true : undefined;
  });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`, { hint: "parameters are passed as --name value" });
  const rawParameters: Record<string, string | boolean> = {};
  for (const { name, value } of args.extra) {
    if (!params.has(name)) {
      const valid = [...params.keys()].map((n) => `--${n}`);
      const suggestion = didYouMean(name, [...params.keys(), ...Object.keys(RUN_OPTIONS)], "--");
      throw new (valid.length ? ParameterError : UsageError)(`unknown option --${name}`, {
        hint: `${suggestion ? `${suggestion} ` : ""}${valid.length ? `parameters of ${graph.className}: ${valid.join(", ")}; ` : ""}run options: ${Object.keys(RUN_OPTIONS).map((n) => `--${n}`).join(" ")}`,
      });
    }
    rawParameters[name] = value;
  }
  return execute(flowFile, graph.className, args, { rawParameters });
}

/** Runs (or resumes) with the run options in `args`; shared by `run` and `resume`. */
export async function execute(
  flowFile: string,
  flowName: string,
  args: ParsedArgs,
  what: { rawParameters: Record<string, string | boolean>; resume?: { origin: RunRecord; step?: string } },
): Promise<number> {
  const withDecorators = parseWithDecorators((args.options.with as string[] | undefined) ?? []);
  if (args.options.isolate) withDecorators.isolate = true;
  const datastore = datastoreConfig({ datastore: stringOption(args, "datastore"), root: stringOption(args, "datastore-root") });
  const quiet = args.options.quiet === true;
  const display = new ConsoleDisplay(quiet);
  if (args.options.production && datastore.kind === "local" && !quiet) {
    process.stderr.write(`warning: --production on the local datastore (${datastore.root}): nobody else can see these results; use --datastore s3 to share them\n`);
  }
  // First Ctrl-C: start nothing new, let running tasks finish and commit. Second: stop them.
  const controller = new AbortController();
  const kill = new AbortController();
  const onSignal = (signal: string) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\n${signal} again: stopping the running tasks\n`);
      kill.abort();
      return;
    }
    process.stderr.write(`\n${signal}: stopping — running tasks finish and are kept (${signal} again stops them); resume with \`${cliName()} resume ${flowFile}\`\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  const runIdFile = stringOption(args, "run-id-file");
  // Checked now: once the run is recorded, a file that cannot be written would leave it `running`.
  if (runIdFile) checkWritableFile(runIdFile, "--run-id-file");
  const result = await runFlow({
    flowFile,
    rawParameters: what.rawParameters,
    resume: what.resume,
    datastore,
    maxWorkers: intOption(args, "max-workers", DEFAULT_MAX_WORKERS),
    maxNumSplits: intOption(args, "max-num-splits", DEFAULT_MAX_NUM_SPLITS),
    production: args.options.production === true,
    branch: stringOption(args, "branch"),
    tags: (args.options.tag as string[] | undefined) ?? [],
    withDecorators,
    observer: display,
    signal: controller.signal,
    killSignal: kill.signal,
    redisUrl: stringOption(args, "redis") === undefined ? undefined : redisUrl(stringOption(args, "redis")!),
    onRunId: (runId) => {
      if (runIdFile) writeFileSync(runIdFile, runId);
      const resumed = what.resume ? `, resuming ${flowName}/${what.resume.origin.runId}${what.resume.step ? ` from step ${what.resume.step}` : ""}` : "";
      if (!quiet) display.info(`Run ${flowName}/${runId} started (datastore: ${datastore.root}${resumed})`);
    },
  });
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  // The inspect commands must reach the same datastore when it came from flags.
  printSummary(result, flowFile, quiet, datastore, datastoreFlags(args));
  if (args.options.timings) process.stderr.write(`${timingsTable(result.timings, performance.now())}\n`);
  return result.status === "succeeded" ? 0 : 1;
}

/** What `Run.get` needs to find the run from a script: the datastore too, unless a script in this project finds it by default. */
function runGetArguments(pathspec: string, datastore: DatastoreConfig): string {
  const local = datastore.kind === "local" && datastore.root === localDatastoreRoot();
  const run = JSON.stringify(pathspec);
  return local ? run : `${run}, { datastore: { kind: "${datastore.kind}", root: ${JSON.stringify(datastore.root)} } }`;
}

/** Refuses a `file` that could not be written, found out without creating it (a run that never starts leaves no file). */
function checkWritableFile(file: string, option: string): void {
  const stat = statSync(file, { throwIfNoEntry: false });
  const directory = dirname(resolve(file));
  let why: string | undefined;
  if (stat?.isDirectory()) why = "is a directory";
  else if (!stat && !statSync(directory, { throwIfNoEntry: false })?.isDirectory()) why = `cannot be created: ${directory} is not a directory`;
  else if (!canWrite(stat ? file : directory)) why = stat ? "is not writable" : `cannot be created: ${directory} is not writable`;
  if (why) throw new UsageError(`${option} ${file} ${why}`, { hint: `${option} takes the path of a file to write the run ID to` });
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function printSummary(result: RunFlowResult, flowFile: string, quiet: boolean, datastore: DatastoreConfig, datastoreFlags = ""): void {
  const flags = datastoreFlags ? ` ${datastoreFlags}` : "";
  const pathspec = `${result.flow}/${result.runId}`;
  if (quiet) {
    process.stdout.write(`${result.runId}\n`);
    if (result.status !== "succeeded") printFailure(result, flowFile, flags);
    return;
  }
  const icon = result.status === "succeeded" ? "✓" : "✗";
  const cloned = result.cloned > 0 ? ` (${result.cloned} cloned from the origin run)` : "";
  const lines = [
    "",
    `${icon} Run ${pathspec} ${result.status}: ${result.steps} steps, ${result.tasks} tasks${cloned}, ${formatDuration(result.durationMs)}`,
  ];
  if (result.status === "succeeded") {
    // The commands' comments line up in one column.
    const command = (args: string, comment: string) => `    ${cliName()} ${args.padEnd(`dump ${pathspec}${flags}`.length + 18)}# ${comment}`;
    lines.push(
      "  Inspect it:",
      command(`dump ${pathspec}${flags}`, "artifacts of the end step"),
      command(`logs ${pathspec}/start${flags}`, "a step's output"),
      command(`ui${flags}`, "the runs, DAG, timeline, logs and cards in a browser"),
      `    import { Run } from "flowrun"; await (await Run.get(${runGetArguments(pathspec, datastore)})).data()   // in code`,
    );
    process.stdout.write(`${lines.join("\n")}\n`);
  } else {
    process.stdout.write(`${lines.join("\n")}\n`);
    printFailure(result, relative(process.cwd(), flowFile) || flowFile, flags);
  }
}
