/**
 * Reads arXiv metadata as JSON Lines: one `{ id, title, abstract, categories, ... }` object a
 * line, plain or gzipped (by the `.gz` extension). It streams (readline over createGunzip), so
 * a user's own multi-GB dump costs memory for the kept records only, not for the raw text.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";

/** One paper, reduced to what the flow uses; plain data, so it can be an artifact. */
export interface ArxivRecord {
  id: string;
  title: string;
  abstract: string;
  /** arXiv subject names, primary first, e.g. "Mathematics - Probability". */
  categories: string[];
  /** `YYYY-MM-DD` of the first version, when the source has it. */
  published?: string;
}

/** The full bundled sample (11,756 records, see data/SOURCE.md). */
export const BUNDLED_DATA = fileURLToPath(new URL("./data/abstracts.jsonl.gz", import.meta.url));
/** Its first 200 lines, for test mode. */
export const BUNDLED_TEST_DATA = fileURLToPath(new URL("./data/abstracts.test.jsonl", import.meta.url));
/** Records read in test mode from a user-supplied file. */
export const TEST_MODE_LIMIT = 200;

export interface LoadOptions {
  /** JSON Lines file (`.gz` = gzipped). Default: the bundled sample. */
  path?: string;
  /** Stop after this many records. */
  limit?: number;
  /** Use the bundled 200-record file, or the first 200 records of `path`. */
  testMode?: boolean;
}

/** A line of the input that is not a usable record; `where` is `file:line`. */
export class AbstractsFormatError extends Error {
  constructor(readonly file: string, readonly line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = "AbstractsFormatError";
  }
  get where(): string {
    return `${this.file}:${this.line}`;
  }
}

export async function loadAbstracts(options: LoadOptions = {}): Promise<ArxivRecord[]> {
  const path = options.path || (options.testMode ? BUNDLED_TEST_DATA : BUNDLED_DATA);
  const limit = options.limit ?? (options.testMode ? TEST_MODE_LIMIT : Infinity);
  // Checked up front: a missing file would otherwise surface as a bare ENOENT from a stream.
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`abstracts file not found: ${path}`);

  const source = createReadStream(path);
  const input = path.endsWith(".gz") ? source.pipe(createGunzip()) : source;
  // .pipe() does not forward errors; without this a read error would leave readline waiting.
  if (input !== source) source.on("error", (err) => input.destroy(err));
  const lines = createInterface({ input, crlfDelay: Infinity });

  const records: ArxivRecord[] = [];
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (records.length >= limit) break;
      if (line.trim() === "") continue;
      records.push(parseRecord(line, path, lineNo));
    }
  } catch (err) {
    if (err instanceof AbstractsFormatError) throw err;
    throw new Error(`cannot read ${path} (after line ${lineNo}): ${(err as Error).message}`, { cause: err });
  } finally {
    lines.close();
    source.destroy();
  }
  return records;
}

function parseRecord(line: string, file: string, lineNo: number): ArxivRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new AbstractsFormatError(file, lineNo, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AbstractsFormatError(file, lineNo, "expected a JSON object per line");
  }
  const r = value as Record<string, unknown>;
  const id = typeof r.id === "string" || typeof r.id === "number" ? String(r.id) : `line ${lineNo}`;
  if (typeof r.abstract !== "string" || r.abstract.trim() === "") {
    throw new AbstractsFormatError(file, lineNo, `record ${id} has no "abstract" (a non-empty string)`);
  }
  if (!Array.isArray(r.categories) || !r.categories.every((c) => typeof c === "string")) {
    throw new AbstractsFormatError(file, lineNo, `record ${id} has no "categories" (an array of strings)`);
  }
  return {
    id,
    title: typeof r.title === "string" ? r.title : "",
    abstract: r.abstract,
    categories: r.categories as string[],
    ...(typeof r.published === "string" ? { published: r.published } : {}),
  };
}

export interface CleanResult {
  abstracts: ArxivRecord[];
  dropped: { withdrawn: number; duplicateId: number };
}

// "This paper has been withdrawn by the authors ..." notices are short and say nothing
// about the subject; real abstracts that mention withdrawal are long, hence the length cap.
const WITHDRAWN = /\b(?:has been|is|been) withdrawn\b/i;
const WITHDRAWN_MAX_WORDS = 60;

/** Drops withdrawal notices and repeated ids (first kept); collapses whitespace. */
export function cleanAbstracts(records: ArxivRecord[]): CleanResult {
  const seen = new Set<string>();
  const dropped = { withdrawn: 0, duplicateId: 0 };
  const abstracts: ArxivRecord[] = [];
  for (const record of records) {
    const abstract = record.abstract.replace(/\s+/g, " ").trim();
    if (seen.has(record.id)) {
      dropped.duplicateId++;
    } else if (WITHDRAWN.test(abstract) && abstract.split(" ").length <= WITHDRAWN_MAX_WORDS) {
      dropped.withdrawn++;
    } else {
      abstracts.push({ ...record, abstract });
    }
    seen.add(record.id);
  }
  return { abstracts, dropped };
}
