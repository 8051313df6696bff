/** `flowrun run --timings`: the run's phases as a table, on stderr after the summary. */
import type { PhaseTotal } from "../../runtime/scheduler/run-timings.js";
import { formatDuration } from "../core/format-duration.js";

const PER_WORKER = new Set<PhaseTotal["phase"]>(["bootMs", "importMs"]);
const ONCE = new Set<PhaseTotal["phase"]>(["cliStart", "graph", "compile", "datastore", "environments", "parameters"]);

export function timingsTable(phases: PhaseTotal[], wallMs: number): string {
  const width = Math.max(...phases.map((p) => p.label.length));
  const rows = phases.map((p) => {
    const count = ONCE.has(p.phase) ? "" : `  ${p.count} ${PER_WORKER.has(p.phase) ? "worker" : "task"}${p.count === 1 ? "" : "s"}`;
    return `  ${p.label.padEnd(width)} ${`${Math.round(p.ms)} ms`.padStart(9)}${count}`;
  });
  return [`Where the time went (run ${formatDuration(wallMs)} from the CLI's start; tasks' phases summed, they overlap when tasks run in parallel):`, ...rows].join("\n");
}
