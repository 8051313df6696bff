/**
 * What the web UI reads from the datastore, shaped for its pages: runs with their observed
 * status, filtered and paged; a run's steps with their tasks' counts; a task's logs. Read-only,
 * straight from the metadata records (the client's namespace rules do not apply: the UI shows
 * every run and lets the reader filter).
 */
import type { MetadataStore } from "../../runtime/metadata/metadata-store.js";
import type { ObservedRunStatus, RunGraph, RunRecord, TaskRecord } from "../../runtime/metadata/records.js";
import { observedStatus } from "../../runtime/metadata/run-liveness.js";
import { allTags } from "../client/visible-runs.js";

export const RUN_STATUSES: readonly ObservedRunStatus[] = ["running", "succeeded", "failed", "cancelled", "crashed"];

export interface RunFilters {
  flow?: string;
  status?: ObservedRunStatus;
  tag?: string;
  /** A namespace: `user:<name>` or `project:<name>` (a system tag the run must have). */
  namespace?: string;
}

export interface RunRow {
  flow: string;
  runId: string;
  status: ObservedRunStatus;
  user: string;
  tags: string[];
  createdAt: string;
  finishedAt?: string;
  durationMs?: number;
}

export interface RunListPage {
  runs: RunRow[];
  /** Runs matching the filters, all pages. */
  total: number;
  page: number;
  pageSize: number;
  /** Every flow and namespace seen, for the filters' choices. */
  flows: string[];
  namespaces: string[];
}

/** One page of runs, newest first. The statuses of runs marked running are checked (is the orchestrator alive?). */
export async function listRunPage(metadata: MetadataStore, filters: RunFilters, page: number, pageSize: number): Promise<RunListPage> {
  const records = (await metadata.listRuns()).reverse();
  const flows = [...new Set(records.map((r) => r.flow))].sort();
  const namespaces = [...new Set(records.flatMap((r) => r.systemTags.filter((t) => t.startsWith("user:") || t.startsWith("project:"))))].sort();
  const statuses = await Promise.all(records.map((r) => observedStatus(metadata, r)));
  const matching = records
    .map((record, i) => ({ record, status: statuses[i]! }))
    .filter(({ record, status }) => {
      const tags = allTags(record);
      return (!filters.flow || record.flow === filters.flow) && (!filters.status || status === filters.status) &&
        (!filters.tag || tags.includes(filters.tag)) && (!filters.namespace || tags.includes(filters.namespace));
    });
  const shown = matching.slice((page - 1) * pageSize, page * pageSize);
  return { runs: shown.map(({ record, status }) => runRow(record, status)), total: matching.length, page, pageSize, flows, namespaces };
}

function runRow(record: RunRecord, status: ObservedRunStatus): RunRow {
  const durationMs = runDurationMs(record);
  return {
    flow: record.flow,
    runId: record.runId,
    status,
    user: record.user,
    tags: allTags(record),
    createdAt: record.createdAt,
    ...(record.finishedAt && { finishedAt: record.finishedAt }),
    ...(durationMs !== undefined && { durationMs }),
  };
}

/** Start to finish of a finished run; undefined while it runs. */
export function runDurationMs(record: Pick<RunRecord, "createdAt" | "finishedAt">): number | undefined {
  return record.finishedAt ? Date.parse(record.finishedAt) - Date.parse(record.createdAt) : undefined;
}

export type StepState = "pending" | "running" | "succeeded" | "failed";

export interface StepSummary {
  name: string;
  /** Tasks expected: a foreach step's splits (known once its split committed), else its tasks seen. */
  total: number;
  done: number;
  failed: number;
  running: number;
  state: StepState;
}

/** A run as its page shows it: the record, its observed status, the graph, its tasks and each step's counts. */
export interface RunView {
  record: RunRecord;
  status: ObservedRunStatus;
  graph: RunGraph;
  tasks: TaskRecord[];
  steps: StepSummary[];
}

export async function runView(metadata: MetadataStore, record: RunRecord): Promise<RunView> {
  const [status, tasks] = await Promise.all([observedStatus(metadata, record), metadata.listTasks(record.flow, record.runId)]);
  const graph = record.graph ?? graphFromTasks(tasks);
  return { record, status, graph, tasks, steps: stepSummaries(graph, tasks) };
}

/** The steps' counts; the same numbers the live updates send. */
export function stepSummaries(graph: RunGraph, tasks: readonly TaskRecord[]): StepSummary[] {
  const byStep = new Map<string, TaskRecord[]>();
  for (const task of tasks) {
    if (!byStep.has(task.step)) byStep.set(task.step, []);
    byStep.get(task.step)!.push(task);
  }
  return graph.steps.map(({ name }) => {
    const stepTasks = byStep.get(name) ?? [];
    const done = stepTasks.filter((t) => t.status === "succeeded").length;
    const failed = stepTasks.filter((t) => t.status === "failed").length;
    const running = stepTasks.filter((t) => t.status === "running").length;
    // Splits not started yet have no record, but their siblings know how many there are.
    const splits = new Map<string, number>();
    for (const task of stepTasks) {
      const frame = task.foreachStack.at(-1);
      if (frame) splits.set(frame.split, frame.count);
    }
    const expected = [...splits.values()].reduce((a, b) => a + b, 0);
    const total = Math.max(expected, stepTasks.length);
    const state: StepState = failed > 0 ? "failed" : running > 0 ? "running" : stepTasks.length > 0 && done === total ? "succeeded" : done > 0 ? "running" : "pending";
    return { name, total, done, failed, running, state };
  });
}

/** Runs recorded before runs kept their graph: the steps their tasks ran, linked as the tasks were. */
function graphFromTasks(tasks: readonly TaskRecord[]): RunGraph {
  const next = new Map<string, Set<string>>();
  for (const task of tasks) {
    next.set(task.step, next.get(task.step) ?? new Set());
    for (const parent of task.parents) {
      const step = parent.split("/")[2]!;
      if (!next.has(step)) next.set(step, new Set());
      next.get(step)!.add(task.step);
    }
  }
  return { steps: [...next].map(([name, targets]) => ({ name, kind: "unknown", next: [...targets], isJoin: false, decorators: [] })) };
}
