/** `flowrun <flow.ts> --help`: the flow's parameters, read from its source (no user code runs). */
import { parameterEnvVar } from "../../flow/parameter-values.js";
import { loadFlowGraphCached } from "../../graph/graph-cache.js";

export async function run(argv: string[]): Promise<number> {
  const graph = await loadFlowGraphCached(argv[0]!);
  const lines = [`${graph.className}${graph.doc ? ` — ${graph.doc.split("\n")[0]}` : ""}`, "", `Usage: flowrun run ${argv[0]} [--<param> value]... [run options]`, ""];
  if (graph.parameters.length === 0) lines.push("This flow takes no parameters.");
  else lines.push("Parameters:");
  for (const p of graph.parameters) {
    const type = p.kind === "IncludeFile" ? "file path" : p.typeName ?? (p.defaultText === undefined ? "String" : "value");
    const flag = p.typeName === "Boolean" ? `--${p.name} / --no-${p.name}` : `--${p.name} <${type}>`;
    const extras = [
      p.required ? "required" : undefined,
      p.defaultText !== undefined ? `default: ${p.defaultText}` : undefined,
      p.separator !== undefined ? `split on ${JSON.stringify(p.separator)}` : undefined,
    ].filter(Boolean).join("; ");
    lines.push(`  ${flag.padEnd(34)} ${p.help ?? ""}${extras ? ` (${extras})` : ""}`);
  }
  const first = graph.parameters[0];
  if (first) lines.push("", `The environment sets a parameter the command line does not: ${parameterEnvVar(first.name)} for --${first.name} (upper case, "-" as "_").`);
  lines.push("", "Run options: flowrun --help");
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
