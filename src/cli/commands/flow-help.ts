/** `flowrun <flow.ts> --help`: the flow's parameters, read from its source (no user code runs). */
import { parameterVariable } from "../../core/config.js";
import { loadFlowGraphCached } from "../../core/graph/graph-cache.js";
import type { ParameterInfo } from "../../core/graph/types.js";
import { defaultLabel } from "../../core/graph/describe-graph.js";
import { words, wrapText } from "../wrap-text.js";

/** Where a parameter's description starts; narrower terminals put it under the flag. */
const FLAG_COLUMN = 37;

export async function run(argv: string[]): Promise<number> {
  const graph = await loadFlowGraphCached(argv[0]!);
  const width = outputWidth();
  const lines: string[] = [];
  const [summary, ...paragraphs] = graph.doc ? paragraphsOf(graph.doc) : [];
  lines.push(...wrapText(summary ? `${graph.className} — ${summary}` : graph.className, width));
  for (const paragraph of paragraphs) lines.push("", ...wrapText(paragraph, width));
  lines.push("", ...wrapText(["Usage:", "flowrun", "run", argv[0]!, "[--<param> value]...", "[run options]"], width, "  "), "");
  if (graph.parameters.length === 0) lines.push("This flow takes no parameters.");
  else lines.push("Parameters:");
  for (const p of graph.parameters) lines.push(...parameterLines(p, width));
  const first = graph.parameters[0];
  if (first) {
    lines.push("", ...wrapText(`The environment sets a parameter the command line does not: ${parameterVariable(first.name)} for --${first.name} (upper case, "-" as "_").`, width));
  }
  lines.push("", "Run options: flowrun --help");
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

function parameterLines(p: ParameterInfo, width: number): string[] {
  const type = p.kind === "IncludeFile" ? "file path" : p.typeName ?? (p.defaultText === undefined ? "String" : "value");
  const flag = `  ${p.typeName === "Boolean" ? `--${p.name} / --no-${p.name}` : `--${p.name} <${type}>`}`;
  const extras = [
    p.required ? "required" : undefined,
    p.defaultText !== undefined ? `default: ${defaultLabel(p.defaultText)}` : undefined,
    p.separator !== undefined ? `split on ${JSON.stringify(p.separator)}` : undefined,
  ].filter(Boolean).join("; ");
  // Below ~30 columns of text a description column reads worse than one under the flag.
  const column = width - FLAG_COLUMN < 30 ? 6 : FLAG_COLUMN;
  // "(default: ...)" stays on one line when it fits on one.
  const note = extras ? `(${extras})` : undefined;
  const text = [...words(p.help ?? ""), ...(note ? (note.length <= width - column ? [note] : words(note)) : [])];
  if (column === 6) return [flag, ...wrapText(text, width, " ".repeat(6), " ".repeat(6))];
  const indent = " ".repeat(FLAG_COLUMN);
  const wrapped = wrapText(text, width, indent, indent).map((line) => line.slice(FLAG_COLUMN));
  if (flag.length < FLAG_COLUMN - 1) return [`${flag.padEnd(FLAG_COLUMN)}${wrapped[0] ?? ""}`.trimEnd(), ...wrapped.slice(1).map((line) => `${indent}${line}`)];
  return [flag, ...wrapped.map((line) => `${indent}${line}`)];
}

/** The doc comment's paragraphs, each on one line (list items and blank lines start new ones). */
function paragraphsOf(doc: string): string[] {
  const paragraphs: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length > 0) paragraphs.push(current.join(" "));
    current = [];
  };
  for (const raw of doc.split("\n")) {
    const line = raw.trim();
    if (line === "") flush();
    else {
      if (/^([-*•]|\d+[.)])\s/.test(line)) flush();
      current.push(line);
    }
  }
  flush();
  return paragraphs;
}

/** The terminal's width, else 80 (a pipe, a file). */
function outputWidth(): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  return Math.max(40, columns ?? 80);
}
