/**
 * Fixtures mark the line an issue must be reported on with a trailing comment:
 * `// error: unknown-step`, `// warning: long-step no-project`. This reads them back as
 * `code@line` strings, so a test compares what was expected with what was found.
 */
import { readFileSync } from "node:fs";

export function expectedIssues(file: string, severity: "error" | "warning"): string[] {
  const marker = new RegExp(`//\\s*${severity}:\\s*([\\w\\s-]+)$`);
  const found: string[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((text, i) => {
      const codes = marker.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
      for (const code of codes) found.push(`${code}@${i + 1}`);
    });
  return found.sort();
}

/** Line of the first line containing `text` (1-based). */
export function lineOf(file: string, text: string): number {
  const index = readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes(text));
  if (index === -1) throw new Error(`${text} not in ${file}`);
  return index + 1;
}
