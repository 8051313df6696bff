/** `flowrun resume <flow.ts> [STEP] [--origin-run-id ID] [--force]`: a new run reusing the origin's successful tasks. */
import { clientDatastore } from "../../client/client-datastore.js";
import { datastoreConfig } from "../../core/datastore-config.js";
import { NotFoundError, UsageError } from "../../core/errors.js";
import type { FlowGraph } from "../../core/graph/types.js";
import { loadValidGraph } from "../../../runtime/run-flow.js";
import { currentUser } from "../../../runtime/run-context.js";
import { flowSource, madeFrom, type FlowSource } from "../../../runtime/metadata/flow-source.js";
import type { MetadataStore } from "../../../runtime/metadata/metadata-store.js";
import type { RunRecord } from "../../../runtime/metadata/records.js";
import { observedStatus } from "../../../runtime/metadata/run-liveness.js";
import { parseArgv, stringOption, type ParsedArgs } from "../argv.js";
import { cliName } from "../cli-name.js";
import { displayFlowFile } from "../resume-hint.js";
import { execute, RUN_OPTIONS } from "./run.js";
import { didYouMean } from "../did-you-mean.js";

export async function run(argv: string[]): Promise<number> {
  const flowFile = argv[0];
  if (!flowFile || flowFile.startsWith("--")) throw new UsageError("flowrun resume needs a flow file", { hint: "flowrun resume ./flows/X.ts [STEP] [--origin-run-id ID]" });
  const graph = await loadValidGraph(flowFile);
  const options = { ...RUN_OPTIONS, "origin-run-id": { value: true }, force: {} };
  const args = parseArgv(argv.slice(1), options);
  if (args.extra.length > 0) {
    const { name } = args.extra[0]!;
    const suggestion = graph.parameters.some((p) => p.name === name) ? undefined : didYouMean(name, Object.keys(options), "--");
    if (suggestion) throw new UsageError(`unknown option --${name}`, { hint: suggestion });
    throw new UsageError(`resume reuses the origin run's parameters; --${args.extra[0]!.name} cannot change them`, {
      hint: `start a new run with \`flowrun run ${flowFile} ...\` to use other values`,
    });
  }
  const [step, ...others] = args.positionals;
  if (others.length > 0) throw new UsageError(`unexpected argument "${others[0]}"`);
  if (step && !graph.steps.has(step)) {
    throw new UsageError(`step '${step}' is not in ${graph.className}`, { hint: `steps: ${[...graph.steps.keys()].join(", ")}` });
  }
  const store = await clientDatastore(datastoreConfig({ datastore: stringOption(args, "datastore"), root: stringOption(args, "datastore-root") }));
  const source = flowSource(flowFile);
  const origin = await findOrigin(store.metadata, graph.className, source, args, store.config.root);
  const pathspec = `${graph.className}/${origin.runId}`;
  if (origin.codeHash !== source.hash) {
    process.stderr.write(`note: ${source.file} changed since ${pathspec} ran; its committed tasks are reused as they are (\`${cliName()} resume ${flowFile} STEP\` re-runs STEP and after)\n`);
  }
  const status = await observedStatus(store.metadata, origin);
  if (status === "crashed") {
    process.stderr.write(`note: ${pathspec} crashed (the process that ran it is gone); resuming from what it committed\n`);
  } else if (status === "running") {
    process.stderr.write(`note: ${pathspec} is still running; resuming from what it has committed so far\n`);
  }
  if (!args.options.production && origin.systemTags.includes("runtime:production")) args.options.production = true;
  return execute(flowFile, graph.className, args, { rawParameters: parametersStillDeclared(origin, graph), resume: { origin, step } });
}

/**
 * The origin is the run named by --origin-run-id, else the user's latest run made from this
 * file. A run made from another file that declares the same class is refused unless --force
 * (the user moved or renamed the file).
 */
async function findOrigin(metadata: MetadataStore, flow: string, source: FlowSource, args: ParsedArgs, root: string): Promise<RunRecord> {
  const originId = stringOption(args, "origin-run-id");
  const force = args.options.force === true;
  if (originId) {
    const origin = await metadata.getRun(flow, originId);
    if (!origin) throw new NotFoundError(`run ${flow}/${originId} does not exist`, { where: root, hint: `\`flowrun runs ${flow}\` lists its runs` });
    if (!force && !madeFrom(origin, source)) {
      throw new UsageError(`run ${flow}/${originId} was made from ${displayFlowFile(origin.flowFile)}, not ${source.file}`, {
        where: `${flow}/${originId}`,
        hint: `resume it with that file, or add --force if ${source.file} is the same flow moved or renamed`,
      });
    }
    return origin;
  }
  const mine = (await metadata.listRuns(flow)).filter((r) => r.user === currentUser());
  const origin = (force ? mine : mine.filter((r) => madeFrom(r, source))).at(-1);
  if (origin) return origin;
  const elsewhere = mine.at(-1);
  throw new NotFoundError(`${flow} has no runs by ${currentUser()} made from ${source.file}`, {
    where: root,
    hint: elsewhere
      ? `the latest, ${flow}/${elsewhere.runId}, was made from ${displayFlowFile(elsewhere.flowFile)}; add --force to resume it from this file`
      : `\`flowrun runs ${flow}\` lists its runs`,
  });
}

/**
 * The origin's command-line values of the parameters the code still declares, saying in
 * one line each which parameters are new (they take their defaults) and which are dropped.
 */
function parametersStillDeclared(origin: RunRecord, graph: FlowGraph): Record<string, string | boolean> {
  const declared = new Set(graph.parameters.map((p) => p.name));
  const flags = (names: string[]) => names.map((n) => `--${n}`).join(", ");
  const added = [...declared].filter((name) => !(name in origin.parameters));
  const dropped = Object.keys(origin.parameters).filter((name) => !declared.has(name));
  if (added.length > 0) process.stderr.write(`note: parameters new since the origin run take their defaults: ${flags(added)}\n`);
  if (dropped.length > 0) process.stderr.write(`note: parameters of the origin run that the flow no longer declares are dropped: ${flags(dropped)}\n`);
  return Object.fromEntries(Object.entries(origin.rawParameters).filter(([name]) => declared.has(name)));
}
