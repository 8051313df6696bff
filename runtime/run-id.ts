import { randomBytes } from "node:crypto";

/**
 * Run IDs: the start time in milliseconds (13 digits until the year 2286, so they sort as
 * strings and as numbers) plus 6 random hex digits, so two machines starting a run in the
 * same millisecond against one datastore still get different IDs.
 */
export function newRunId(now = Date.now()): string {
  return `${now}-${randomBytes(3).toString("hex")}`;
}
