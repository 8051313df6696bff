/**
 * Which tasks of an origin run a resume reuses. A task is identified across runs by its
 * position in the graph, not its task ID: the step, the foreach/branch indices that led to
 * it, and how many times that position already ran (a switch loop revisits it). The new run
 * replays the graph; at each position where the origin has a committed task of a step
 * before the resume point, it clones that task (by reference) instead of running it.
 */
import { NotFoundError } from "../../src/core/errors.js";
import type { FlowGraph } from "../../src/core/graph/types.js";
import type { MetadataStore } from "../metadata/metadata-store.js";
import type { ForeachFrame, RunRecord, TaskRecord } from "../metadata/records.js";

export function positionKey(step: string, stack: readonly ForeachFrame[]): string {
  return `${step}@${stack.map((f) => f.index).join(".")}`;
}

export class ResumePlan {
  private readonly seen = new Map<string, number>();

  private constructor(
    readonly origin: RunRecord,
    private readonly committed: Map<string, TaskRecord>,
    private readonly rerun: ReadonlySet<string>,
  ) {}

  static async load(metadata: MetadataStore, graph: FlowGraph, origin: RunRecord, resumeStep?: string): Promise<ResumePlan> {
    if (resumeStep && !graph.steps.has(resumeStep)) {
      throw new NotFoundError(`step '${resumeStep}' is not in ${graph.className}`, { hint: `steps: ${[...graph.steps.keys()].join(", ")}` });
    }
    const done = await metadata.doneTasks(origin.flow, origin.runId);
    const tasks = (await metadata.listTasks(origin.flow, origin.runId)).sort((a, b) => Number(a.taskId) - Number(b.taskId));
    const committed = new Map<string, TaskRecord>();
    const occurrences = new Map<string, number>();
    for (const task of tasks) {
      const position = positionKey(task.step, task.foreachStack);
      // Retries share a task ID; only one record per task exists, so every record is one position visit.
      const n = occurrences.get(position) ?? 0;
      occurrences.set(position, n + 1);
      if (done.has(`${task.step}/${task.taskId}`)) committed.set(`${position}#${n}`, task);
    }
    return new ResumePlan(origin, committed, resumeStep ? downstreamOf(graph, resumeStep) : new Set());
  }

  /** The origin task to clone for the next visit of this position, if there is one. */
  match(step: string, stack: readonly ForeachFrame[]): TaskRecord | undefined {
    const position = positionKey(step, stack);
    const n = this.seen.get(position) ?? 0;
    this.seen.set(position, n + 1);
    if (this.rerun.has(step)) return undefined;
    return this.committed.get(`${position}#${n}`);
  }
}

function downstreamOf(graph: FlowGraph, step: string): Set<string> {
  const out = new Set<string>();
  const stack = [step];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (out.has(name)) continue;
    out.add(name);
    stack.push(...graph.steps.get(name)!.next);
  }
  return out;
}
