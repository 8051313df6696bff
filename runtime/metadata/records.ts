/** The metadata records flowrun stores per run and per task (JSON, in any StorageBackend). */
import type { SerializedError } from "../../src/errors.js";
import type { NextCall } from "../../src/flow/flowspec.js";
import type { ArtifactRef } from "../datastore/content-store.js";

export type RunStatus = "running" | "succeeded" | "failed" | "cancelled";
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
  flowFile: string;
  /** SHA-256 of the flow file's source at run start. */
  codeHash: string;
  status: RunStatus;
  createdAt: string;
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
}

export interface ForeachFrame {
  /** `step/taskId` of the task that split. */
  split: string;
  kind: "foreach" | "split";
  index: number;
  count: number;
}

export interface TaskRecord {
  flow: string;
  runId: string;
  step: string;
  taskId: string;
  attempt: number;
  status: TaskStatus;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  /** Pathspecs of the tasks this one ran after (several for a join). */
  parents: string[];
  foreachStack: ForeachFrame[];
  /** foreach split: the element handed to `this.input`. */
  inputRef?: ArtifactRef;
  artifacts?: Record<string, ArtifactRef>;
  next?: NextCall | null;
  /** switch: the step chosen. */
  chosen?: string;
  exception?: SerializedError;
  /** resume: the task of the origin run this one was cloned from. */
  clonedFrom?: string;
  /** Where `flowrun logs` finds the output. */
  logKey: string;
}

export interface DoneMarker {
  attempt: number;
  finishedAt: string;
}
