/** `flowrun show <flow.ts>`: steps, transitions, docstrings, decorators and parameters. */
import { describeGraph } from "../../core/graph/describe-graph.js";
import { loadValidGraph } from "./check.js";

export async function run(args: string[]): Promise<number> {
  const graph = await loadValidGraph("show", args);
  if (typeof graph === "number") return graph;
  process.stdout.write(describeGraph(graph));
  return 0;
}
