/**
 * Reads a finished run back through the public client (`Run.get` with the run's own
 * datastore) and splits a task's recorded duration around its step body. The scheduler
 * times a task from dispatch to just before its commit (`startedAt`, `durationMs`); the
 * bench flows store `<prefix>BodyStart` / `<prefix>BodyEnd` (`Date.now()` inside the body,
 * the same clock): so
 *   before = body start - dispatch   (queueing, a cold worker, loading the inputs' refs)
 *   body   = body end - body start
 *   after  = dispatch + duration - body end   (encoding, hashing and writing artifacts)
 * Clock resolution is 1 ms on each end.
 */
import { Run, type Task } from "../src/index.js";

export interface TaskTiming {
  pathspec: string;
  durationMs: number;
  beforeMs: number;
  bodyMs: number;
  afterMs: number;
}

export async function openRun(root: string, flow: string, runId: string): Promise<Run> {
  return Run.get(`${flow}/${runId}`, { datastore: { kind: "local", root } });
}

export async function stepTasks(run: Run, step: string): Promise<Task[]> {
  return (await run.step(step)).tasks();
}

export async function timeTask(run: Run, step: string, prefix: string): Promise<TaskTiming & { task: Task }> {
  const task = (await stepTasks(run, step))[0]!;
  const durationMs = task.durationMs;
  if (durationMs === null) throw new Error(`${task.pathspec} has no recorded duration`);
  const dispatched = task.startedAt.getTime();
  const bodyStart = await task.artifact<number>(`${prefix}BodyStart`);
  const bodyEnd = await task.artifact<number>(`${prefix}BodyEnd`);
  return {
    task,
    pathspec: task.pathspec,
    durationMs,
    beforeMs: bodyStart - dispatched,
    bodyMs: bodyEnd - bodyStart,
    afterMs: dispatched + durationMs - bodyEnd,
  };
}

export function describeTiming(label: string, t: TaskTiming): string {
  return `${label}: task ${t.durationMs} ms = before body ${t.beforeMs} + body ${t.bodyMs} + after body ${t.afterMs}`;
}

export interface RunPhases {
  /** Spawn of the CLI to the dispatch of the first task: process start, graph, datastore, parameters. */
  startupMs: number;
  /** First task dispatch to the last task's end. */
  tasksMs: number;
  /** Last task's end to the CLI's exit: run record, closing pools and the datastore. */
  shutdownMs: number;
  taskCount: number;
}

/** Where a run's wall clock went, from the task records and the CLI's spawn/exit times. */
export async function runPhases(run: Run, cli: { spawnedAt: number; wallMs: number }): Promise<RunPhases> {
  const tasks = (await Promise.all((await run.steps()).map((s) => s.tasks()))).flat();
  const first = Math.min(...tasks.map((t) => t.startedAt.getTime()));
  const last = Math.max(...tasks.map((t) => t.startedAt.getTime() + (t.durationMs ?? 0)));
  return {
    startupMs: first - cli.spawnedAt,
    tasksMs: last - first,
    shutdownMs: cli.spawnedAt + cli.wallMs - last,
    taskCount: tasks.length,
  };
}

export function describePhases(p: RunPhases): string {
  return `wall = CLI start-up to first task ${Math.round(p.startupMs)} ms + ${p.taskCount} tasks ${Math.round(p.tasksMs)} ms + shutdown ${Math.round(p.shutdownMs)} ms`;
}

export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export interface PhaseTiming {
  label: string;
  ms: number;
  /** "10 workers", "1003 tasks"; absent for the run's one-off phases. */
  count?: string;
}

/** The phases `flowrun run --timings` printed on stderr. */
export function parseTimings(stderr: string): PhaseTiming[] {
  const table = stderr.slice(stderr.indexOf("Where the time went"));
  return [...table.matchAll(/^ {2}(\S.*?) +(\d+) ms(?: {2}(\d+ \w+))?$/gm)].map((m) => ({ label: m[1]!, ms: Number(m[2]), count: m[3] }));
}
