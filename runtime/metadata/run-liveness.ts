/**
 * Whether a `running` run still has an orchestrator. A CLI killed with `kill -9`, or a
 * machine that lost power, never records how its run ended; readers must not show such a
 * run as `running` forever. The orchestrator records where it runs (host, pid, process
 * start) in the run record and rewrites a small heartbeat record every few seconds. A
 * reader on the same host checks the process directly; elsewhere, a heartbeat older than
 * three intervals means the run crashed (see COMMIT-PROTOCOL.md).
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { config, DEFAULT_HEARTBEAT_SECONDS } from "../../src/core/config.js";
import type { MetadataStore } from "./metadata-store.js";
import type { ObservedRunStatus, Orchestrator, RunRecord } from "./records.js";

/** Missed beats before a run is crashed: one slow write (S3 retries, a busy disk) is not a crash. */
const STALE_AFTER_BEATS = 3;

export function thisOrchestrator(): Orchestrator {
  return { host: hostname(), pid: process.pid, processStart: processStart(process.pid), heartbeatSeconds: config.heartbeatSeconds() };
}

/**
 * Writes the run's heartbeat now and then every interval until `stop()`. A failed write is
 * not an error of the run: the next beat tries again, and readers allow missed beats.
 */
export function startHeartbeat(metadata: MetadataStore, run: Pick<RunRecord, "flow" | "runId">, seconds: number): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const beat = () => {
    writing = metadata
      .putHeartbeat(run.flow, run.runId, { at: new Date().toISOString() })
      .catch(() => undefined)
      .then(() => {
        if (!stopped) timer = setTimeout(beat, seconds * 1000).unref();
      });
  };
  beat();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await writing;
    },
  };
}

/** The run's status as a reader should see it: `crashed` when it is marked running but nothing runs it. */
export async function observedStatus(metadata: MetadataStore, run: RunRecord, now = Date.now()): Promise<ObservedRunStatus> {
  if (run.status !== "running") return run.status;
  const orchestrator = run.orchestrator;
  if (orchestrator?.host === hostname()) return isAlive(orchestrator) ? "running" : "crashed";
  const beat = await metadata.getHeartbeat(run.flow, run.runId);
  const last = Date.parse(beat?.at ?? run.createdAt);
  const interval = (orchestrator?.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000;
  return now - last > STALE_AFTER_BEATS * interval ? "crashed" : "running";
}

function isAlive(orchestrator: Orchestrator): boolean {
  try {
    process.kill(orchestrator.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // Pids are reused: the same pid with another start time is another process.
  return orchestrator.processStart === undefined || processStart(orchestrator.pid) === orchestrator.processStart;
}

/** Field 22 of /proc/<pid>/stat (Linux only; elsewhere the pid alone is checked). */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2, the command name in parentheses, may hold spaces: count from its ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
