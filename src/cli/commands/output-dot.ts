/** `flowrun output-dot <flow.ts>`: the graph in Graphviz DOT on stdout, e.g. `| dot -Tsvg > flow.svg`. */
import { graphToDot } from "../../core/graph/graph-dot.js";
import { loadValidGraph } from "./check.js";

export async function run(args: string[]): Promise<number> {
  const graph = await loadValidGraph("output-dot", args);
  if (typeof graph === "number") return graph;
  process.stdout.write(graphToDot(graph));
  return 0;
}
