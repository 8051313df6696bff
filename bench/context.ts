/** What a measurement is, and what the bench runner hands it. */
import type { BenchRow } from "./table.js";

export interface BenchContext {
  /** `--quick`: measurements marked `slow` are skipped; others may do fewer repetitions. */
  quick: boolean;
  /** Repetitions for cheap CLI runs (the median is reported); `--repeat N`. */
  repeat: number;
  /** Run options added to every measured `flowrun run` (e.g. `--max-workers 2`). */
  extraArgs: string[];
  /** Progress line on stderr (the table goes to stdout). */
  log(message: string): void;
  /** Computes `key` once per bench invocation: baselines shared by several measurements. */
  shared<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

export interface Measurement {
  /** Matched by the filter: `npm run bench -- foreach` runs every id containing "foreach". */
  id: string;
  description: string;
  /** Skipped under `--quick` (10,000 splits, 500 MB). */
  slow?: boolean;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

export function createContext(options: { quick: boolean; repeat: number; extraArgs: string[] }): BenchContext {
  const cache = new Map<string, Promise<unknown>>();
  return {
    ...options,
    log: (message) => process.stderr.write(`[bench] ${message}\n`),
    shared<T>(key: string, compute: () => Promise<T>): Promise<T> {
      let value = cache.get(key) as Promise<T> | undefined;
      if (!value) cache.set(key, (value = compute()));
      return value;
    },
  };
}
