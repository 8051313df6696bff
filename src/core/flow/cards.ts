/**
 * Cards: a report a task builds while it runs (`current.card.append(new Markdown("# Topics"))`),
 * stored with the task and shown by `flowrun ui` and `flowrun card view`. Components are
 * objects a step may keep and update (`bar.update(7); current.card.refresh()`); what is stored
 * is their plain data (`CardComponentData`), never code, and read back without flowrun's classes.
 */

/** A component as stored: plain data a reader renders. */
export type CardComponentData =
  | { type: "markdown"; text: string }
  | { type: "table"; headers: string[]; rows: TableCell[][] }
  | { type: "image"; mimeType: "image/png" | "image/jpeg"; bytes: Uint8Array; label?: string }
  | { type: "vegalite"; spec: Record<string, unknown> }
  | { type: "progressbar"; value: number; max: number; label?: string };

/** A table cell: a value shown as text, or a component (an image in a table). */
export type TableCell = string | number | boolean | null | CardComponentData;

/** What a task's card stores: its components in order. */
export interface CardData {
  components: CardComponentData[];
}

/** Anything `current.card.append` takes. */
export interface CardComponent {
  /** The component's state now, as stored. */
  toData(): CardComponentData;
}

/** Markdown text (raw HTML in it is shown as text, never run). */
export class Markdown implements CardComponent {
  constructor(private text: string) {
    checkString("Markdown", text);
  }
  update(text: string): void {
    checkString("Markdown", text);
    this.text = text;
  }
  toData(): CardComponentData {
    return { type: "markdown", text: this.text };
  }
}

/** Rows of cells (text, numbers, or components); `headers` names the columns. */
export class Table implements CardComponent {
  private rows: TableCell[][] = [];
  private readonly headers: string[];

  constructor(rows: ReadonlyArray<ReadonlyArray<TableCell | CardComponent>> = [], options: { headers?: readonly string[] } = {}) {
    this.headers = (options.headers ?? []).map(String);
    this.update(rows);
  }

  /** A table of plain records: one column per key of the first record. */
  static fromRecords(records: ReadonlyArray<Record<string, TableCell | CardComponent>>): Table {
    const headers = Object.keys(records[0] ?? {});
    return new Table(records.map((record) => headers.map((key) => record[key] ?? null)), { headers });
  }

  update(rows: ReadonlyArray<ReadonlyArray<TableCell | CardComponent>>): void {
    if (!Array.isArray(rows) || !rows.every(Array.isArray)) throw new TypeError("Table: rows must be an array of arrays of cells");
    this.rows = rows.map((row) => row.map(tableCell));
  }

  toData(): CardComponentData {
    return { type: "table", headers: this.headers, rows: this.rows };
  }
}

/** A PNG or JPEG image, from its bytes. */
export class Image implements CardComponent {
  private readonly mimeType: "image/png" | "image/jpeg";
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array | ArrayBuffer, private readonly options: { label?: string } = {}) {
    this.bytes = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
    if (!(this.bytes instanceof Uint8Array)) throw new TypeError("Image: give the image's bytes (a Uint8Array or Buffer)");
    const type = imageType(this.bytes);
    if (!type) throw new TypeError(`Image: the bytes are not a PNG or JPEG image (they start ${hexStart(this.bytes)})`);
    this.mimeType = type;
  }

  toData(): CardComponentData {
    return { type: "image", mimeType: this.mimeType, bytes: this.bytes, ...(this.options.label !== undefined && { label: String(this.options.label) }) };
  }
}

/** A Vega-Lite chart: the spec with its data inline (`data: { values: [...] }`); URLs are not loaded. */
export class VegaLite implements CardComponent {
  constructor(private spec: Record<string, unknown>) {
    checkSpec(spec);
  }
  update(spec: Record<string, unknown>): void {
    checkSpec(spec);
    this.spec = spec;
  }
  toData(): CardComponentData {
    return { type: "vegalite", spec: this.spec };
  }
}

/** Progress towards `max`; `update(value)` then `current.card.refresh()` shows it while the task runs. */
export class ProgressBar implements CardComponent {
  private value: number;
  private readonly max: number;

  constructor(private readonly options: { max: number; value?: number; label?: string }) {
    this.max = options.max;
    if (!(Number.isFinite(this.max) && this.max > 0)) throw new TypeError(`ProgressBar: max must be a number > 0, got ${options.max}`);
    this.value = 0;
    this.update(options.value ?? 0);
  }
  update(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`ProgressBar: value must be a number, got ${value}`);
    this.value = Math.min(Math.max(value, 0), this.max);
  }
  toData(): CardComponentData {
    return { type: "progressbar", value: this.value, max: this.max, ...(this.options.label !== undefined && { label: String(this.options.label) }) };
  }
}

/** `current.card`: the running task's card. */
export interface TaskCard {
  /** Adds a component at the end of the card. */
  append(component: CardComponent): void;
  extend(components: Iterable<CardComponent>): void;
  /** Removes every component. */
  clear(): void;
  /** The components appended so far. */
  readonly components: readonly CardComponent[];
  /**
   * Stores the card as it is now, so `flowrun ui` shows it while the task runs (at most once
   * a second; the card is always stored when the task ends).
   */
  refresh(): Promise<void>;
}

/** The stored form of components: their data now. */
export function cardData(components: readonly CardComponent[]): CardData {
  return { components: components.map((component) => component.toData()) };
}

/** A component's data, checked: `append` refuses anything else at once, naming it. */
export function checkComponent(component: unknown): asserts component is CardComponent {
  if (!isComponent(component)) {
    throw new TypeError(`current.card.append takes a card component (Markdown, Table, Image, VegaLite, ProgressBar), got ${describe(component)}`);
  }
}

function isComponent(value: unknown): value is CardComponent {
  return typeof (value as Partial<CardComponent> | null)?.toData === "function";
}

function tableCell(cell: TableCell | CardComponent): TableCell {
  if (cell === null || ["string", "number", "boolean"].includes(typeof cell)) return cell as TableCell;
  if (isComponent(cell)) return cell.toData();
  throw new TypeError(`Table: a cell is text, a number, a boolean, null or a component, got ${describe(cell)}`);
}

function imageType(bytes: Uint8Array): "image/png" | "image/jpeg" | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  return undefined;
}

function hexStart(bytes: Uint8Array): string {
  return bytes.length === 0 ? "empty" : Buffer.from(bytes.subarray(0, 4)).toString("hex");
}

function checkString(component: string, text: unknown): void {
  if (typeof text !== "string") throw new TypeError(`${component}: text must be a string, got ${describe(text)}`);
}

function checkSpec(spec: unknown): void {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new TypeError(`VegaLite: the spec must be an object, got ${describe(spec)}`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return Object.getPrototypeOf(value) === Object.prototype || !value.constructor?.name ? "a plain object" : `a ${value.constructor.name}`;
  return `a ${typeof value}`;
}
