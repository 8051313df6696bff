/**
 * Reading results: `Flow` -> `Run` -> `Step` -> `Task` -> artifacts, the same for a local
 * or an S3 datastore. Objects are snapshots of the metadata when they were read; artifact
 * values load only when asked for.
 */
import { readTaskCard, type TaskCardContent } from "./task-card.js";
import type { Readable } from "node:stream";
import { NotFoundError } from "../core/errors.js";
import { isFileRef, type FileRef } from "../core/flow/files.js";
import { attemptLogKey, type LogStream } from "../../runtime/metadata/metadata-store.js";
import type { ObservedRunStatus, RunRecord, TaskException, TaskRecord } from "../../runtime/metadata/records.js";
import { observedStatus } from "../../runtime/metadata/run-liveness.js";
import type { DatastoreConfig } from "../core/datastore-config.js";
import { userSource } from "../core/user-frames.js";
import { clientDatastore, type ClientDatastore } from "./client-datastore.js";
import { getNamespace, inNamespace } from "./namespace.js";
import { Lineage, type LinkedTask } from "./lineage.js";
import { allTags, visibleRuns } from "./visible-runs.js";

/** Which attempt's output to read: the task's last attempt unless given. */
export interface LogOptions {
  attempt?: number;
}

export interface ClientOptions {
  /** Read this datastore instead of the one FLOWRUN_DATASTORE* / `.flowrun/` names. */
  datastore?: DatastoreConfig;
}

function namespaceHint(): string {
  return `the current namespace is ${JSON.stringify(getNamespace())}; call namespace(null) to see every run`;
}

/** The flows with at least one run in the current namespace, by name (Metaflow's `Metaflow().flows`). */
export async function listFlows(options: ClientOptions = {}): Promise<Flow[]> {
  const store = await clientDatastore(options.datastore);
  const names = new Set((await visibleRuns(store.metadata)).map((r) => r.flow));
  return [...names].sort().map((name) => new Flow(name, options));
}

export class Flow {
  constructor(readonly name: string, private readonly options: ClientOptions = {}) {}

  get pathspec(): string {
    return this.name;
  }

  toString(): string {
    return this.pathspec;
  }

  /** Runs in the current namespace, newest first; with `tags`, only the runs having all of them. */
  async runs(filter: { tags?: readonly string[] } = {}): Promise<Run[]> {
    const store = await clientDatastore(this.options.datastore);
    const visible = await visibleRuns(store.metadata, { flow: this.name, tags: filter.tags });
    return Promise.all(visible.map(async (r) => new Run(r, store, await observedStatus(store.metadata, r))));
  }

  async latestRun(): Promise<Run> {
    const run = (await this.runs())[0];
    if (!run) throw new NotFoundError(`flow ${this.name} has no runs`, { where: this.name, hint: namespaceHint() });
    return run;
  }

  async latestSuccessfulRun(): Promise<Run> {
    const run = (await this.runs()).find((r) => r.successful);
    if (!run) throw new NotFoundError(`flow ${this.name} has no successful run`, { where: this.name, hint: namespaceHint() });
    return run;
  }
}

/** What the steps and tasks read through one `Run` share. */
interface RunScope {
  store: ClientDatastore;
  /** The run's tags when it was read: steps and tasks carry them, as in Metaflow. */
  tags: readonly string[];
  lineage: Lineage;
}

export class Run {
  private readonly lineage: Lineage;

  /** @internal */
  constructor(private record: RunRecord, private readonly store: ClientDatastore, private readonly observed: ObservedRunStatus) {
    this.lineage = new Lineage(store.metadata, record.flow, record.runId);
  }

  /** `Run.get("Flow/runId")` */
  static async get(pathspec: string, options: ClientOptions = {}): Promise<Run> {
    const [flow, runId, extra] = pathspec.split("/");
    if (!flow || !runId || extra !== undefined) {
      throw new NotFoundError(`"${pathspec}" is not a run pathspec`, { hint: "a run pathspec looks like Flow/runId" });
    }
    const store = await clientDatastore(options.datastore);
    const record = await store.metadata.getRun(flow, runId);
    if (!record) throw new NotFoundError(`run ${pathspec} does not exist`, { where: pathspec, hint: `\`flowrun runs ${flow}\` lists its runs` });
    if (!inNamespace(allTags(record))) throw new NotFoundError(`run ${pathspec} is not in the current namespace`, { where: pathspec, hint: namespaceHint() });
    return new Run(record, store, await observedStatus(store.metadata, record));
  }

  get id(): string { return this.record.runId; }
  get flow(): string { return this.record.flow; }
  get pathspec(): string { return `${this.record.flow}/${this.record.runId}`; }
  toString(): string { return this.pathspec; }
  /** `crashed`: marked running, but the process that ran it is gone (killed, or its machine went down). */
  get status(): ObservedRunStatus { return this.observed; }
  get successful(): boolean { return this.record.status === "succeeded"; }
  get finished(): boolean { return this.observed !== "running"; }
  get createdAt(): Date { return new Date(this.record.createdAt); }
  get finishedAt(): Date | null { return this.record.finishedAt ? new Date(this.record.finishedAt) : null; }
  get tags(): string[] { return allTags(this.record); }
  get user(): string { return this.record.user; }
  get parameters(): Record<string, unknown> { return { ...this.record.parameters }; }
  get originRunId(): string | null { return this.record.originRunId ?? null; }
  get codeHash(): string { return this.record.codeHash; }
  get environments(): Record<string, Record<string, string>> { return { ...this.record.environments }; }
  /** The run's metadata record as stored. */
  get metadata(): Readonly<RunRecord> { return this.record; }

  /**
   * Adds a user tag; `tags` then shows the run's tags as stored (other writers' changes too).
   * Concurrent adds and removes, from any process or the run itself, all take effect.
   * @throws TagError for a system tag (`user:`, `project:`, `project_branch:`, `runtime:`), an empty or too long one.
   */
  async addTag(tag: string): Promise<void> {
    await this.store.metadata.addTags(this.flow, this.id, [tag]);
    await this.rereadTags();
  }

  /** Removes a user tag (a no-op if the run does not have it). @throws TagError as `addTag`. */
  async removeTag(tag: string): Promise<void> {
    await this.store.metadata.removeTags(this.flow, this.id, [tag]);
    await this.rereadTags();
  }

  /**
   * Removes `oldTag` and adds `newTag`. On a local datastore in one transaction: no reader
   * sees one without the other. On S3, which has no transactions, `newTag` is written
   * first: a reader may briefly see both, never neither (and both stay if the process dies
   * in between). @throws TagError as `addTag`, before anything changes.
   */
  async replaceTag(oldTag: string, newTag: string): Promise<void> {
    await this.store.metadata.replaceTag(this.flow, this.id, oldTag, newTag);
    await this.rereadTags();
  }

  private async rereadTags(): Promise<void> {
    this.record = { ...this.record, tags: await this.store.metadata.runTags(this.flow, this.id) };
  }

  /** Steps that have at least one task, in the order they first ran. */
  async steps(): Promise<Step[]> {
    const tasks = await this.store.metadata.listTasks(this.flow, this.id);
    const byStep = new Map<string, TaskRecord[]>();
    for (const task of tasks.sort((a, b) => Number(a.taskId) - Number(b.taskId))) {
      if (!byStep.has(task.step)) byStep.set(task.step, []);
      byStep.get(task.step)!.push(task);
    }
    return [...byStep].map(([name, records]) => new Step(this.pathspec, name, records, this.scope()));
  }

  async step(name: string): Promise<Step> {
    const records = await this.store.metadata.listTasks(this.flow, this.id, name);
    if (records.length === 0) {
      throw new NotFoundError(`step ${this.pathspec}/${name} has no tasks`, { where: `${this.pathspec}/${name}`, hint: "check the step name; `flowrun dump` lists a run's steps" });
    }
    return new Step(this.pathspec, name, records.sort((a, b) => Number(a.taskId) - Number(b.taskId)), this.scope());
  }

  private scope(): RunScope {
    return { store: this.store, tags: this.tags, lineage: this.lineage };
  }

  /** The task of the `end` step (where a run's results are). */
  async endTask(): Promise<Task> {
    return (await this.step("end")).task();
  }

  /** An artifact of the run's `end` step. */
  async artifact<T = unknown>(name: string): Promise<T> {
    return (await this.endTask()).artifact<T>(name);
  }

  /** Every artifact of the `end` step. */
  async data(): Promise<Record<string, unknown>> {
    return (await this.endTask()).artifacts();
  }
}

export class Step {
  /** @internal */
  constructor(readonly runPathspec: string, readonly name: string, private readonly records: TaskRecord[], private readonly scope: RunScope) {}

  get pathspec(): string { return `${this.runPathspec}/${this.name}`; }
  toString(): string { return this.pathspec; }
  /** The run's tags. */
  get tags(): string[] { return [...this.scope.tags]; }

  /** Tasks in foreach index order (then task ID). */
  async tasks(): Promise<Task[]> {
    const done = await this.scope.store.metadata.doneTasks(this.records[0]!.flow, this.records[0]!.runId, this.name);
    return sortTasks(this.records.map((record) => ({ record, successful: done.has(`${record.step}/${record.taskId}`) }))).map((t) => new Task(t, this.scope));
  }

  /** The step's task; for a foreach step, its first split. */
  async task(id?: string): Promise<Task> {
    const tasks = await this.tasks();
    const task = id === undefined ? tasks.find((t) => t.successful) ?? tasks[0] : tasks.find((t) => t.id === id);
    if (!task) throw new NotFoundError(`task ${this.pathspec}/${id} does not exist`, { where: this.pathspec });
    return task;
  }
}

function sortTasks(tasks: LinkedTask[]): LinkedTask[] {
  return tasks.sort((a, b) => compareStacks(a.record, b.record) || Number(a.record.taskId) - Number(b.record.taskId));
}

/** Orders tasks by their split indices, outermost first (a nested foreach's cells by row, then cell). */
function compareStacks(a: TaskRecord, b: TaskRecord): number {
  const n = Math.max(a.foreachStack.length, b.foreachStack.length);
  for (let i = 0; i < n; i++) {
    const d = (a.foreachStack[i]?.index ?? 0) - (b.foreachStack[i]?.index ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Artifacts up to this size are read when looking for a FileRef by the name it was put with. */
const FILE_REF_SCAN_BYTES = 64 * 1024;

export class Task {
  private readonly record: TaskRecord;
  readonly successful: boolean;
  private readonly store: ClientDatastore;

  /** @internal */
  constructor(task: LinkedTask, private readonly scope: RunScope) {
    this.record = task.record;
    this.successful = task.successful;
    this.store = scope.store;
  }

  static async get(pathspec: string, options: ClientOptions = {}): Promise<Task> {
    const [flow, runId, step, taskId] = pathspec.split("/");
    const run = await Run.get(`${flow}/${runId}`, options);
    return (await run.step(step ?? "")).task(taskId);
  }

  get id(): string { return this.record.taskId; }
  get step(): string { return this.record.step; }
  get pathspec(): string { return `${this.record.flow}/${this.record.runId}/${this.record.step}/${this.record.taskId}`; }
  toString(): string { return this.pathspec; }
  /** The run's tags. */
  get tags(): string[] { return [...this.scope.tags]; }
  /** Position in the innermost foreach, or null outside one. */
  get index(): number | null { return this.record.foreachStack.filter((f) => f.kind === "foreach").at(-1)?.index ?? null; }
  get attempt(): number { return this.record.attempt; }
  get finished(): boolean { return this.record.status !== "running"; }
  /**
   * Why the task failed: the error's `name`, `message`, `stack` and `source`, the `file:line`
   * of your code it was thrown from. Undefined for a successful task, including one whose
   * failure @catchError handled.
   */
  get exception(): TaskException | undefined {
    const exception = this.record.exception;
    // Runs recorded before `source` was stored: the stack still says.
    return exception && { ...exception, source: exception.source ?? userSource(exception.stack) };
  }
  get clonedFrom(): string | null { return this.record.clonedFrom ?? null; }
  get startedAt(): Date { return new Date(this.record.startedAt); }
  get durationMs(): number | null { return this.record.durationMs ?? null; }
  get metadata(): Readonly<TaskRecord> { return this.record; }

  /** The tasks this one ran after: none for `start`, one per input for a join, in input order. */
  async parentTasks(): Promise<Task[]> {
    return (await this.scope.lineage.parents(this.record)).map((t) => new Task(t, this.scope));
  }

  /** The tasks that ran after this one (a foreach split's in index order); none for `end`. */
  async childTasks(): Promise<Task[]> {
    return sortTasks(await this.scope.lineage.children(this.record)).map((t) => new Task(t, this.scope));
  }

  artifactNames(): string[] {
    return Object.keys(this.record.artifacts ?? {});
  }

  async artifact<T = unknown>(name: string): Promise<T> {
    // Own names only: `constructor` or `toString` must not find Object.prototype's members.
    const artifacts = this.record.artifacts ?? {};
    const ref = Object.hasOwn(artifacts, name) ? artifacts[name] : undefined;
    if (!ref) {
      throw new NotFoundError(`${this.pathspec} has no artifact '${name}'`, {
        where: this.pathspec,
        hint: this.artifactNames().length ? `its artifacts: ${this.artifactNames().join(", ")}` : "the task stored no artifacts (did it succeed?)",
      });
    }
    return (await this.store.content.load(ref, `${this.pathspec} artifact '${name}'`)) as T;
  }

  async artifacts(): Promise<Record<string, unknown>> {
    const names = this.artifactNames();
    const values = await Promise.all(names.map((n) => this.artifact(n)));
    return Object.fromEntries(names.map((n, i) => [n, values[i]]));
  }

  /**
   * A local path with the bytes of a file a step put (`current.files.put`), checked against
   * their hash: `file` is the FileRef (an artifact's value, of this task or any other run in
   * the same datastore), the name of an artifact holding one, or the name it was put with.
   * On S3 the file is downloaded once into the machine's cache.
   */
  async file(file: FileRef | string): Promise<string> {
    return this.store.files.path(typeof file === "string" ? await this.fileRef(file) : file);
  }

  /** The bytes of a file a step put, as a stream (see `file`). */
  async openFile(file: FileRef | string): Promise<Readable> {
    return this.store.files.open(typeof file === "string" ? await this.fileRef(file) : file);
  }

  /** The FileRef named `name`: an artifact holding one, else one the task keeps (alone or in an array) put under that name. */
  private async fileRef(name: string): Promise<FileRef> {
    const artifacts = this.record.artifacts ?? {};
    if (Object.hasOwn(artifacts, name)) {
      const value = await this.artifact(name);
      if (isFileRef(value)) return value;
      throw new NotFoundError(`artifact '${name}' is not a file (a FileRef from current.files.put)`, { where: this.pathspec, hint: `its files: ${(await this.fileRefs()).map((ref) => ref.name).join(", ") || "none"}` });
    }
    const refs = await this.fileRefs();
    const found = refs.find((ref) => ref.name === name);
    if (found) return found;
    throw new NotFoundError(`the task has no file '${name}'`, { where: this.pathspec, hint: refs.length ? `its files: ${refs.map((ref) => ref.name).join(", ")}` : "the task keeps no FileRef artifact" });
  }

  /** The FileRefs among the task's small artifacts (a ref is ~150 bytes: large artifacts are not read for this). */
  private async fileRefs(): Promise<FileRef[]> {
    const refs: FileRef[] = [];
    for (const [name, ref] of Object.entries(this.record.artifacts ?? {})) {
      if (ref.size > FILE_REF_SCAN_BYTES) continue;
      const value = await this.artifact(name);
      for (const item of Array.isArray(value) ? value : [value]) if (isFileRef(item)) refs.push(item);
    }
    return refs;
  }

  /** The task's card (`current.card`, `@card`) as stored, or null when the task has none. */
  card(): Promise<TaskCardContent | null> {
    return readTaskCard(this.store.metadata, this.store.content, this.record);
  }

  /** What the task printed; `attempt` reads an earlier attempt's (a failed attempt's ends with its error). */
  stdout(options: LogOptions = {}): Promise<string> {
    return this.store.metadata.readLog(this.logKey(options), "stdout");
  }

  stderr(options: LogOptions = {}): Promise<string> {
    return this.store.metadata.readLog(this.logKey(options), "stderr");
  }

  /** The task's output as it was written, chunk by chunk, without holding it whole: for logs too large for a string. */
  streamLog(stream: LogStream = "stdout", options: LogOptions = {}): AsyncIterable<string> {
    return this.store.metadata.streamLog(this.logKey(options), stream);
  }

  private logKey({ attempt }: LogOptions): string {
    if (attempt === undefined || attempt === this.record.attempt) return this.record.logKey;
    if (!Number.isInteger(attempt) || attempt < 0 || attempt > this.record.attempt) {
      throw new NotFoundError(`the task has no attempt ${attempt}`, {
        where: this.pathspec,
        hint: `its attempts are 0 to ${this.record.attempt}`,
      });
    }
    return attemptLogKey(this.record, attempt);
  }
}
