/**
 * Wraps prose to a width at spaces: `first` prefixes the first line, `rest` the others.
 * A word longer than the width (a long path) keeps its own line rather than being cut.
 * Given an array, each element is a word that is never split (`(default: { depth: 2 })`).
 */
export function wrapText(text: string | string[], width: number, rest = "", first = ""): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of typeof text === "string" ? words(text) : text) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty) lines.push(line);
  return lines;
}

export function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}
