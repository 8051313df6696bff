/** The metadata records flowrun stores per run and per task (JSON, in any StorageBackend). */
import type { SerializedError } from "../../src/core/errors.js";
import type { NextCall } from "../../src/core/flow/flowspec.js";
import type { ArtifactRef } from "../datastore/content-store.js";

export type RunStatus = "running" | "succeeded" | "failed" | "cancelled";
/** What readers are shown: a `running` run whose orchestrator is gone is `crashed` (never stored; see run-liveness.ts). */
export type ObservedRunStatus = RunStatus | "crashed";

/** The process that schedules a run's tasks, so readers can tell whether it is still there. */
export interface Orchestrator {
  host: string;
  pid: number;
  /** When the process started (Linux: clock ticks since boot), telling a reused pid from it. */
  processStart?: string;
  /** How often it writes the run's heartbeat record. */
  heartbeatSeconds: number;
}

/** `heartbeat/<flow>/<runId>`: rewritten by the orchestrator while the run goes on. */
export interface Heartbeat {
  at: string;
}
export type TaskStatus = "running" | "succeeded" | "failed";

export interface RunRecord {
  flow: string;
  runId: string;
  user: string;
  /** Parameter values as given or defaulted (JSON-safe preview; the artifacts hold the values). */
  parameters: Record<string, unknown>;
  /** Raw command-line parameter values, so `resume` can re-resolve exactly the same run. */
  rawParameters: Record<string, string | boolean>;
  /** User tags (`--tag`, `flowrun tag add`): stored one record each, filled in when a run is read. */
  tags: string[];
  /** Tags the system set (user:, project:, runtime:); not removable with `flowrun tag remove`. */
  systemTags: string[];
  /**
   * The flow file that made the run, relative to the project root (see flow-source.ts);
   * absolute in runs recorded by flowrun versions before that.
   */
  flowFile: string;
  /** SHA-256 of the flow file's source at run start. */
  codeHash: string;
  status: RunStatus;
  createdAt: string;
  /** Absent in runs recorded before runs had heartbeats. */
  orchestrator?: Orchestrator;
  finishedAt?: string;
  originRunId?: string;
  /** resume: the step from which everything re-ran. */
  resumeStep?: string;
  /** Step -> exact package versions of its dependency environment. */
  environments?: Record<string, Record<string, string>>;
  /** The parameter artifacts every task starts from (reused as-is by `resume`). */
  parameterRefs?: Record<string, ArtifactRef>;
  error?: SerializedError & { pathspec?: string };
  stats?: { tasks: number; cloned: number; failed: number };
  /** SHA-256 of the run's code package (runs with remote steps): the blob workers run. */
  codePackage?: string;
  /** The flow's steps and transitions as the run ran them (absent in runs recorded before it). */
  graph?: RunGraph;
}

/** What a reader needs of the flow's graph to draw it: no source locations, no decorator text. */
export interface RunGraph {
  steps: Array<{ name: string; kind: string; next: string[]; isJoin: boolean; foreach?: string; doc?: string; decorators: string[] }>;
}

export interface ForeachFrame {
  /** `step/taskId` of the task that split. */
  split: string;
  kind: "foreach" | "split";
  index: number;
  count: number;
  /** foreach: the element this split handles (`this.input`), loaded only when read. */
  input?: ArtifactRef;
}

export interface TaskRecord {
  flow: string;
  runId: string;
  step: string;
  taskId: string;
  attempt: number;
  status: TaskStatus;
  /** When a worker took the task up (until then, when it was dispatched). */
  startedAt: string;
  /** When the scheduler handed the task to its step's workers: `startedAt` minus this is its wait for a worker (absent in older records). */
  dispatchedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Pathspecs of the tasks this one ran after (several for a join). */
  parents: string[];
  foreachStack: ForeachFrame[];
  artifacts?: Record<string, ArtifactRef>;
  next?: NextCall | null;
  /** switch: the step chosen. */
  chosen?: string;
  exception?: TaskException;
  /** resume: the task of the origin run this one was cloned from. */
  clonedFrom?: string;
  /** Where `flowrun logs` finds the output. */
  logKey: string;
  /** `host/pid` of the `flowrun worker` that ran the attempt (remote steps only). */
  worker?: string;
  /** The attempts before this one, which failed, oldest first (a retried task's history). */
  earlierAttempts?: EarlierAttempt[];
  /** The task's card (`current.card`, `@card`), stored when the attempt ended. */
  card?: StoredCard;
}

export interface EarlierAttempt {
  attempt: number;
  dispatchedAt?: string;
  startedAt: string;
  finishedAt?: string;
  /** The error's `name: message`. */
  error?: string;
}

/**
 * A card as a task record keeps it: its components are stored like an artifact (an image's
 * bytes would not fit a record). While the task runs, `current.card.refresh()` keeps the
 * latest one under `cards/<flow>/<runId>/<step>/<taskId>/<attempt>`.
 */
export interface StoredCard {
  type: "default" | "blank";
  /** The components (`CardData`); absent when none were appended. */
  ref?: ArtifactRef;
  updatedAt: string;
}

/** Why a task failed: the error as thrown in the task, and where the user's code threw it. */
export interface TaskException extends SerializedError {
  /** `file:line` of the innermost frame of the user's code in the stack, when there is one. */
  source?: string;
}

export interface DoneMarker {
  attempt: number;
  finishedAt: string;
}
