/** `flowrun resume <flow.ts> [STEP] [--origin-run-id ID]`: a new run reusing the origin's successful tasks. */
import { clientDatastore } from "../../client/client-datastore.js";
import { datastoreConfig } from "../../datastore-config.js";
import { NotFoundError, UsageError } from "../../errors.js";
import { loadValidGraph } from "../../../runtime/run-flow.js";
import { currentUser } from "../../../runtime/run-context.js";
import { parseArgv, stringOption } from "../argv.js";
import { execute, RUN_OPTIONS } from "./run.js";

export async function run(argv: string[]): Promise<number> {
  const flowFile = argv[0];
  if (!flowFile || flowFile.startsWith("--")) throw new UsageError("flowrun resume needs a flow file", { hint: "flowrun resume ./flows/X.ts [STEP] [--origin-run-id ID]" });
  const graph = await loadValidGraph(flowFile);
  const args = parseArgv(argv.slice(1), { ...RUN_OPTIONS, "origin-run-id": { value: true } });
  if (args.extra.length > 0) {
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
  const originId = stringOption(args, "origin-run-id");
  const origin = originId
    ? await store.metadata.getRun(graph.className, originId)
    : (await store.metadata.listRuns(graph.className)).filter((r) => r.user === currentUser()).at(-1);
  if (!origin) {
    throw new NotFoundError(originId ? `run ${graph.className}/${originId} does not exist` : `${graph.className} has no runs by ${currentUser()} to resume`, {
      where: store.config.root,
      hint: `\`flowrun runs ${graph.className}\` lists its runs`,
    });
  }
  if (origin.status === "running") {
    process.stderr.write(`note: ${graph.className}/${origin.runId} is marked running (its CLI may have been killed); resuming from what it committed\n`);
  }
  if (!args.options.production && origin.systemTags.includes("runtime:production")) args.options.production = true;
  return execute(flowFile, graph.className, args, { rawParameters: origin.rawParameters, resume: { origin, step } });
}
