/** The runs a reader is shown: those in the current namespace, optionally only those having every given tag. */
import type { MetadataStore } from "../../runtime/metadata/metadata-store.js";
import type { RunRecord } from "../../runtime/metadata/records.js";
import { inNamespace } from "./namespace.js";

/** System tags first, then the user's: what `run.tags` shows and what namespaces and tag filters match. */
export function allTags(run: Pick<RunRecord, "systemTags" | "tags">): string[] {
  return [...run.systemTags, ...run.tags];
}

export interface RunFilter {
  /** One flow's runs; all flows' when absent. */
  flow?: string;
  /** Runs having all of these tags (user or system tags). */
  tags?: readonly string[];
}

/** Newest first. Two listings of the datastore, whatever the number of runs. */
export async function visibleRuns(metadata: MetadataStore, filter: RunFilter = {}): Promise<RunRecord[]> {
  const records = await metadata.listRuns(filter.flow);
  return records
    .filter((r) => {
      if (filter.flow && r.flow !== filter.flow) return false;
      const tags = allTags(r);
      return inNamespace(tags) && (filter.tags ?? []).every((t) => tags.includes(t));
    })
    .reverse();
}
