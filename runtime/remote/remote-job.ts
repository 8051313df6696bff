/**
 * What crosses the task queue between the CLI (which orchestrates) and a `flowrun worker`
 * (which runs one attempt and commits it): a job's data and its return value, both JSON.
 */
import type { DatastoreConfig } from "../../src/core/datastore-config.js";
import type { StepDecorators } from "../../src/core/flow/registry.js";
import type { AttemptOutcome, TaskAttempt } from "../scheduler/task-attempt.js";
import type { CodePackageRef } from "./code-package.js";

/** Redis keys of everything flowrun keeps there start with this (BullMQ's `prefix` too). */
export const REDIS_PREFIX = "flowrun";
export const DEFAULT_QUEUE = "flowrun";

export interface RemoteTaskJob {
  /** The flowrun version of the CLI that started the run: a worker runs only jobs of its own version. */
  flowrun: string;
  /** The run's datastore: a worker serves one, and refuses jobs of another. */
  datastore: DatastoreConfig;
  code: CodePackageRef;
  decorators: StepDecorators;
  /**
   * Every step's `@dependencies` (class and step merged), in the flow's order: the step's own
   * set is built here, and the others say which decorator a missing package needs.
   */
  declared: Record<string, Record<string, string>>;
  /** The exact versions the run recorded for the step's set. */
  environmentLock?: Record<string, string>;
  attempt: TaskAttempt;
  /** Redis channel on which the worker publishes the task's output lines, live. */
  logChannel: string;
}

/** A job's return value: the attempt's outcome, as stored (its record names the worker that ran it). */
export interface RemoteTaskResult {
  outcome: AttemptOutcome;
}

/** Redis key that names the one attempt allowed to commit a task (first wins). */
export function commitClaimKey(pathspec: string): string {
  return `${REDIS_PREFIX}:commit:${pathspec}`;
}

export function logChannelOf(runPathspec: string): string {
  return `${REDIS_PREFIX}:logs:${runPathspec}`;
}

/** One output line of a remote task, as published on the run's log channel. */
export interface RemoteLogLine {
  pathspec: string;
  stream: "stdout" | "stderr";
  text: string;
}
