/**
 * An artifact's value as HTML, in part: a chart for numbers, a table for records, a JSON tree
 * for the rest, each cut to what a page can show (the first rows, sampled points, the first
 * entries of each level). A page never carries a big artifact whole.
 */
import { html, trustedHtml, type SafeHtml } from "./html.js";
import { numbersChartSpec, vegaLiteToSvg } from "./vega-svg.js";

const TABLE_ROWS = 100;
const TABLE_COLUMNS = 20;
const TREE_ENTRIES = 100;
const TREE_DEPTH = 8;
const STRING_CHARS = 2000;

export async function previewValue(value: unknown): Promise<SafeHtml> {
  const numbers = numericArray(value);
  if (numbers && numbers.length >= 2) return numbersPreview(numbers);
  if (isRecordArray(value)) return recordsTable(value);
  return html`<div class="tree">${tree(value, 0)}</div>`;
}

async function numbersPreview(values: ArrayLike<number | bigint>): Promise<SafeHtml> {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const summary = html`<p class="summary">${values.length.toLocaleString("en-US")} values · min ${round(min)} · max ${round(max)} · mean ${round(sum / values.length)}</p>`;
  try {
    return html`<figure class="chart">${trustedHtml(await vegaLiteToSvg(numbersChartSpec(values)))}</figure>${summary}`;
  } catch (error) {
    return html`<p class="error">chart not drawn: ${(error as Error).message}</p>${summary}`;
  }
}

function recordsTable(records: ReadonlyArray<Record<string, unknown>>): SafeHtml {
  const shown = records.slice(0, TABLE_ROWS);
  const columns = [...new Set(shown.flatMap((r) => Object.keys(r)))].slice(0, TABLE_COLUMNS);
  const more = records.length > shown.length ? html`<p class="summary">first ${shown.length} of ${records.length.toLocaleString("en-US")} records</p>` : null;
  return html`<table class="records"><thead><tr>${columns.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody>${shown.map(
    (r) => html`<tr>${columns.map((c) => html`<td>${scalar(r[c])}</td>`)}</tr>`,
  )}</tbody></table>${more}`;
}

function tree(value: unknown, depth: number): SafeHtml {
  if (value === null || typeof value !== "object" || value instanceof Date) return html`<span class="v">${scalar(value)}</span>`;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return html`<span class="v">${scalar(value)}</span>`;
  const entries: Array<[string, unknown]> =
    value instanceof Map ? [...value.entries()].map(([k, v]) => [scalarText(k), v])
    : value instanceof Set ? [...value].map((v, i) => [String(i), v])
    : Object.entries(value);
  const kind = Array.isArray(value) ? `Array(${value.length})` : value instanceof Map ? `Map(${value.size})` : value instanceof Set ? `Set(${value.size})` : `{${entries.length}}`;
  if (depth >= TREE_DEPTH) return html`<span class="v">${kind} …</span>`;
  const shown = entries.slice(0, TREE_ENTRIES);
  const more = entries.length > shown.length ? html`<li class="more">… ${entries.length - shown.length} more</li>` : null;
  return html`<details${depth < 2 ? trustedHtml(" open") : null}><summary>${kind}</summary><ul>${shown.map(
    ([k, v]) => html`<li><span class="k">${k}</span>: ${tree(v, depth + 1)}</li>`,
  )}${more}</ul></details>`;
}

function scalar(value: unknown): SafeHtml {
  return html`${scalarText(value)}`;
}

/** One value as short text: strings cut to STRING_CHARS, bytes as their size and first bytes in hex. */
export function scalarText(value: unknown): string {
  if (typeof value === "string") return value.length > STRING_CHARS ? `${value.slice(0, STRING_CHARS)}… (${value.length.toLocaleString("en-US")} chars)` : value;
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof ArrayBuffer) return scalarText(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, Math.min(value.byteLength, 32));
    return `${value.constructor.name}(${value.byteLength.toLocaleString("en-US")} bytes) ${Buffer.from(bytes).toString("hex")}${value.byteLength > 32 ? "…" : ""}`;
  }
  if (value !== null && typeof value === "object") return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))?.slice(0, 200) ?? String(value);
  return String(value);
}

function numericArray(value: unknown): ArrayLike<number | bigint> | undefined {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof Uint8Array)) return value as unknown as ArrayLike<number>;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number")) return value as number[];
  return undefined;
}

function isRecordArray(value: unknown): value is Array<Record<string, unknown>> {
  return Array.isArray(value) && value.length > 0 && value.slice(0, TABLE_ROWS).every((v) => v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype);
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toPrecision(4);
}
