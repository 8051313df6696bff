/**
 * The result table every benchmark prints into. A row is one number with its unit, an
 * optional target it is judged against and an optional Metaflow figure measured alongside; notes
 * (how it was measured, where the time went) print under the table, not in it, so the
 * columns stay readable in a terminal.
 */

export interface BenchTarget {
  /** `<` and `<=` for costs (time, memory), `>=` for rates (MB/s). */
  op: "<" | "<=" | ">=";
  value: number;
  /** Shown after the number, e.g. "on 2 cores". */
  qualifier?: string;
}

export interface BenchRow {
  measurement: string;
  /** null when the measurement could not be taken (the run failed); `notes` say why. */
  value: number | null;
  unit: string;
  target?: BenchTarget;
  /**
   * The same measurement for Metaflow, in the same unit, taken in the same bench invocation
   * (shown with the ratio flowrun/Metaflow); absent when METAFLOW_SRC is not set.
   */
  metaflow?: number;
  notes?: string[];
}

export function meetsTarget(row: BenchRow): boolean | undefined {
  if (!row.target || row.value === null) return undefined;
  const { op, value } = row.target;
  return op === "<" ? row.value < value : op === "<=" ? row.value <= value : row.value >= value;
}

export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

function cells(row: BenchRow): string[] {
  const ok = meetsTarget(row);
  const target = row.target ? `${row.target.op} ${formatNumber(row.target.value)} ${row.unit}${row.target.qualifier ? ` ${row.target.qualifier}` : ""}` : "";
  const metaflow = row.metaflow === undefined ? "" : `${formatNumber(row.metaflow)} ${row.unit}`;
  const ratio = row.metaflow === undefined || row.value === null ? "" : `${(row.value / row.metaflow).toPrecision(2)}x`;
  return [
    row.measurement,
    row.value === null ? "n/a" : formatNumber(row.value),
    row.unit,
    target,
    ok === undefined ? (row.target ? "?" : "") : ok ? "yes" : "NO",
    metaflow,
    ratio,
  ];
}

const HEADER = ["measurement", "value", "unit", "target", "ok?", "Metaflow (same run)", "flowrun/Metaflow"];
const RIGHT_ALIGNED = new Set([1, 5, 6]);

/** Renders rows as a markdown table, then each row's notes. Returns the text (also printed when `print`). */
export function printTable(rows: readonly BenchRow[], print = true): string {
  const body = rows.map(cells);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (RIGHT_ALIGNED.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (RIGHT_ALIGNED.has(i) ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  const out = [line(HEADER), rule, ...body.map(line)];
  const noted = rows.filter((r) => r.notes?.length);
  if (noted.length > 0) {
    out.push("", "Notes:");
    for (const row of noted) {
      out.push(`- ${row.measurement}:`);
      for (const note of row.notes!) out.push(`    ${note}`);
    }
  }
  const text = `${out.join("\n")}\n`;
  if (print) process.stdout.write(text);
  return text;
}
