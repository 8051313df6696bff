/**
 * Which tasks of a run a task ran after (its parents, recorded in its TaskRecord) and which
 * ran after it (its children: tasks of the steps it transitioned to that recorded it as a
 * parent). Children are only findable by listing those steps, so a step is listed once per
 * Lineage: asking every split of a 10,000-task foreach for its children reads the next step
 * once, not 10,000 times. One Lineage serves the tasks read from one `Run` object, which is a
 * snapshot anyway.
 */
import type { MetadataStore } from "../../runtime/metadata/metadata-store.js";
import type { TaskRecord } from "../../runtime/metadata/records.js";

export interface LinkedTask {
  record: TaskRecord;
  successful: boolean;
}

export class Lineage {
  private readonly listings = new Map<string, Promise<TaskRecord[]>>();
  private readonly done = new Map<string, Promise<Set<string>>>();

  constructor(private readonly metadata: MetadataStore, private readonly flow: string, private readonly runId: string) {}

  /** The tasks `task` ran after, in the order recorded (a join's inputs in index order). */
  async parents(task: TaskRecord): Promise<LinkedTask[]> {
    const linked = await Promise.all(task.parents.map(async (pathspec) => {
      const [, , step, taskId] = pathspec.split("/");
      const [record, done] = await Promise.all([this.metadata.getTask(this.flow, this.runId, step!, taskId!), this.doneIn(step!)]);
      return record && { record, successful: done.has(`${step}/${taskId}`) };
    }));
    return linked.filter((t) => t !== undefined);
  }

  /** The tasks that ran after `task`, in no particular order. */
  async children(task: TaskRecord): Promise<LinkedTask[]> {
    const pathspec = `${task.flow}/${task.runId}/${task.step}/${task.taskId}`;
    const steps = task.chosen ? [task.chosen] : task.next?.targets ?? [];
    const perStep = await Promise.all([...new Set(steps)].map(async (step) => {
      const [records, done] = await Promise.all([this.listing(step), this.doneIn(step)]);
      return records.filter((r) => r.parents.includes(pathspec)).map((record) => ({ record, successful: done.has(`${step}/${record.taskId}`) }));
    }));
    return perStep.flat();
  }

  private listing(step: string): Promise<TaskRecord[]> {
    return memo(this.listings, step, () => this.metadata.listTasks(this.flow, this.runId, step));
  }

  private doneIn(step: string): Promise<Set<string>> {
    return memo(this.done, step, () => this.metadata.doneTasks(this.flow, this.runId, step));
  }
}

function memo<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) cache.set(key, (value = load()));
  return value;
}
