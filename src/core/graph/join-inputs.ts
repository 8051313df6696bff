/**
 * What a join reads from its `inputs` by name. In a join closing a static split, `inputs`
 * also names each incoming task by the step its branch ended in (`inputs.trainTree`); a name
 * that is none of those is `undefined` at run time, found only after the branches ran. The
 * graph knows the branches statically, so `check` reports it (Metaflow does not). A foreach
 * join's `inputs` is an array and a key computed at run time (`inputs[name]`) cannot be
 * known: neither is checked. The reads are found when the source is parsed
 * (parse-input-reads.ts); this check runs on the graph alone, with no compiler loaded.
 */
import { closestName } from "./closest-name.js";
import { graphError } from "./issue.js";
import type { FlowGraph, GraphIssue } from "./types.js";

/** What `inputs` has whatever the branches: it is an array. */
const ARRAY_MEMBERS = new Set([...Object.getOwnPropertyNames(Array.prototype), ...Object.getOwnPropertyNames(Object.prototype)]);

/**
 * `unknown-input` for each name a static split's join reads that is not one of its inputs.
 * `matchingJoin`: split or foreach step -> the join that closes it.
 */
export function checkJoinInputs(graph: FlowGraph, matchingJoin: ReadonlyMap<string, string>): GraphIssue[] {
  const issues: GraphIssue[] = [];
  for (const join of graph.steps.values()) {
    if (!join.isJoin || !join.inputReads?.length) continue;
    const closes = [...matchingJoin].filter(([, j]) => j === join.name).map(([split]) => graph.steps.get(split)?.kind);
    if (closes.length === 0 || closes.some((kind) => kind !== "split")) continue;
    const branches = join.parents;
    for (const read of join.inputReads) {
      if (branches.includes(read.name) || ARRAY_MEMBERS.has(read.name) || /^\d+$/.test(read.name)) continue;
      const guess = closestName(read.name, branches);
      issues.push(
        graphError(
          "unknown-input",
          read.loc,
          `join \`${join.name}\` reads \`inputs.${read.name}\`, but its inputs come from ${listed(branches)}`,
          guess
            ? `did you mean \`inputs.${guess}\`?`
            : `a join's inputs are named by the last step of each branch: ${branches.map((b) => `\`inputs.${b}\``).join(", ")}`,
        ),
      );
    }
  }
  return issues;
}

function listed(names: string[]): string {
  const quoted = names.map((n) => `\`${n}\``);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}` : quoted.join("");
}
