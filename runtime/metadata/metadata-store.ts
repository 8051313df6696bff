/**
 * Where runs, tasks, done-markers and logs live in a StorageBackend, and the commit
 * protocol (see COMMIT-PROTOCOL.md): a task's artifacts are written by its worker first;
 * then its final TaskRecord and its done-marker are written in that order in one batch.
 * A task is successful only if its done-marker exists.
 *
 *   runs/<flow>/<runId>                       RunRecord (without `tags`: filled in from tags/ when read)
 *   tags/<flow>/<runId>/<tag, percent-encoded>   { tag }: a user tag is on while its record exists
 *   tasks/<flow>/<runId>/<step>/<taskId>      TaskRecord
 *   done/<flow>/<runId>/<step>/<taskId>       DoneMarker
 *   splits/<flow>/<runId>/<step>/<taskId>     foreach element refs (read by `resume` only: every
 *                                             split reads its parent's TaskRecord, which must stay small)
 *   logs/<flow>/<runId>/<step>/<taskId>/<attempt>/<stream>/<seq>   text
 *   cards/<flow>/<runId>/<step>/<taskId>/<attempt>   StoredCard of a running task's last
 *                                             `current.card.refresh()` (the record has it once done)
 *   heartbeat/<flow>/<runId>                  Heartbeat (run-liveness.ts), apart from the RunRecord
 *                                             so that beating never rewrites the run record
 */
import type { ArtifactRef } from "../datastore/content-store.js";
import type { StorageBackend } from "../datastore/storage-backend.js";
import { writing } from "../datastore/write-failure.js";
import type { DoneMarker, Heartbeat, RunRecord, StoredCard, TaskRecord } from "./records.js";
import { decodeTag, encodeTag } from "./run-tags.js";

export type LogStream = "stdout" | "stderr";

const pad = (n: number) => String(n).padStart(8, "0");

export class MetadataStore {
  constructor(readonly backend: StorageBackend) {}

  /** A new run: its `--tag` tags, then its record (so a run is never listed with a tag missing). */
  async createRun(run: RunRecord): Promise<void> {
    const where = `${run.flow}/${run.runId}`;
    const tags = [...new Set(run.tags)].map((tag) => ({ key: tagKey(run.flow, run.runId, encodeTag(tag, "added", where)), value: { tag } }));
    await this.write(`the run record ${where}`, [...tags, runRecord(run)]);
  }

  /** Rewrites the run's record; its tags are not part of it, so a concurrent `tag add` is never undone. */
  async putRun(run: RunRecord): Promise<void> {
    await this.write(`the run record ${run.flow}/${run.runId}`, [runRecord(run)]);
  }

  async getRun(flow: string, runId: string): Promise<RunRecord | undefined> {
    const [record, tags] = await Promise.all([this.backend.getRecord<RunRecord>(`runs/${flow}/${runId}`), this.runTags(flow, runId)]);
    return record && { ...record, tags };
  }

  /** Runs of one flow (or of all flows), oldest first: run IDs sort by start time. Two listings, whatever the number of runs. */
  async listRuns(flow?: string): Promise<RunRecord[]> {
    const [records, tagKeys] = await Promise.all([
      this.backend.listRecords<RunRecord>(flow ? `runs/${flow}/` : "runs/"),
      this.backend.listKeys(flow ? `tags/${flow}/` : "tags/"),
    ]);
    const tags = new Map<string, string[]>();
    for (const key of tagKeys) {
      const [, tagFlow, runId, tag] = key.split("/");
      const run = `${tagFlow}/${runId}`;
      if (!tags.has(run)) tags.set(run, []);
      tags.get(run)!.push(decodeTag(tag!));
    }
    return records
      .map(({ value }) => ({ ...value, tags: (tags.get(`${value.flow}/${value.runId}`) ?? []).sort() }))
      .sort((a, b) => a.runId.localeCompare(b.runId));
  }

  /** The run's user tags, sorted. */
  async runTags(flow: string, runId: string): Promise<string[]> {
    const prefix = tagKey(flow, runId, "");
    return (await this.backend.listKeys(prefix)).map((key) => decodeTag(key.slice(prefix.length))).sort();
  }

  /**
   * Each tag is its own record, written or deleted alone: any number of concurrent adds and
   * removes (CLI, client, the run itself) all take effect.
   * @throws TagError for a system, empty, too long or invalid tag, before anything is written.
   */
  async addTags(flow: string, runId: string, tags: readonly string[]): Promise<void> {
    const keys = tags.map((tag) => tagKey(flow, runId, encodeTag(tag, "added", `${flow}/${runId}`)));
    await this.write(`tags of ${flow}/${runId}`, keys.map((key, i) => ({ key, value: { tag: tags[i] } })));
  }

  /** Removing a tag the run does not have is a no-op. @throws TagError as `addTags`. */
  async removeTags(flow: string, runId: string, tags: readonly string[]): Promise<void> {
    const keys = tags.map((tag) => tagKey(flow, runId, encodeTag(tag, "removed", `${flow}/${runId}`)));
    for (const key of keys) await this.backend.deleteRecord(key);
  }

  /** `oldTag` off and `newTag` on: atomically on LMDB; on S3 `newTag` is written first (see StorageBackend.replaceRecord). */
  async replaceTag(flow: string, runId: string, oldTag: string, newTag: string): Promise<void> {
    const where = `${flow}/${runId}`;
    const oldKey = tagKey(flow, runId, encodeTag(oldTag, "removed", where));
    await this.backend.replaceRecord(oldKey, { key: tagKey(flow, runId, encodeTag(newTag, "added", where)), value: { tag: newTag } });
  }

  async putHeartbeat(flow: string, runId: string, beat: Heartbeat): Promise<void> {
    await this.write(`the heartbeat of ${flow}/${runId}`, [{ key: `heartbeat/${flow}/${runId}`, value: beat }]);
  }

  async getHeartbeat(flow: string, runId: string): Promise<Heartbeat | undefined> {
    return this.backend.getRecord<Heartbeat>(`heartbeat/${flow}/${runId}`);
  }

  async putTask(task: TaskRecord): Promise<void> {
    await this.write(`the task record ${pathspecOf(task)}`, [{ key: taskKey(task), value: task }]);
  }

  /** The commit point of a successful task: its foreach elements and record, then its done-marker. */
  async commitTask(task: TaskRecord, foreachElements?: ArtifactRef[]): Promise<void> {
    const marker: DoneMarker = { attempt: task.attempt, finishedAt: task.finishedAt ?? new Date().toISOString() };
    const splits = foreachElements ? [{ key: `splits/${task.flow}/${task.runId}/${task.step}/${task.taskId}`, value: foreachElements }] : [];
    await this.write(`the task record ${pathspecOf(task)}`, [
      ...splits,
      { key: taskKey(task), value: task },
      { key: `done/${task.flow}/${task.runId}/${task.step}/${task.taskId}`, value: marker },
    ]);
  }

  async foreachElements(task: Pick<TaskRecord, "flow" | "runId" | "step" | "taskId">): Promise<ArtifactRef[] | undefined> {
    return this.backend.getRecord<ArtifactRef[]>(`splits/${task.flow}/${task.runId}/${task.step}/${task.taskId}`);
  }

  async getTask(flow: string, runId: string, step: string, taskId: string): Promise<TaskRecord | undefined> {
    return this.backend.getRecord<TaskRecord>(`tasks/${flow}/${runId}/${step}/${taskId}`);
  }

  /** The records of the tasks `flow/runId/step/taskId`, in order (undefined where there is none). */
  async getTasks(pathspecs: readonly string[]): Promise<Array<TaskRecord | undefined>> {
    return this.backend.getRecords<TaskRecord>(pathspecs.map((pathspec) => `tasks/${pathspec}`));
  }

  async listTasks(flow: string, runId: string, step?: string): Promise<TaskRecord[]> {
    const prefix = `tasks/${flow}/${runId}/${step ? `${step}/` : ""}`;
    return (await this.backend.listRecords<TaskRecord>(prefix)).map((r) => r.value);
  }

  /** `step/taskId` of every task of the run that committed. */
  async doneTasks(flow: string, runId: string, step?: string): Promise<Set<string>> {
    const prefix = `done/${flow}/${runId}/`;
    const keys = await this.backend.listKeys(step ? `${prefix}${step}/` : prefix);
    return new Set(keys.map((key) => key.slice(prefix.length)));
  }

  async isDone(flow: string, runId: string, step: string, taskId: string): Promise<boolean> {
    return (await this.backend.getRecord(`done/${flow}/${runId}/${step}/${taskId}`)) !== undefined;
  }

  /** The card a running task refreshed last. */
  async putLiveCard(task: TaskAddress, attempt: number, card: StoredCard): Promise<void> {
    await this.write(`the card of ${pathspecOf(task)}`, [{ key: liveCardKey(task, attempt), value: card }]);
  }

  /** A task's card: the one its record kept when the attempt ended, else the one it refreshed last. */
  async taskCard(task: TaskRecord): Promise<StoredCard | undefined> {
    return task.card ?? this.backend.getRecord<StoredCard>(liveCardKey(task, task.attempt));
  }

  async appendLogs(chunks: ReadonlyArray<{ logKey: string; stream: LogStream; seq: number; text: string }>): Promise<void> {
    if (chunks.length === 0) return;
    const logs = [...new Set(chunks.map((c) => c.logKey.slice("logs/".length, c.logKey.lastIndexOf("/"))))];
    await this.write(
      `the output of ${logs[0]}${logs.length > 1 ? ` and ${logs.length - 1} more tasks` : ""}`,
      chunks.map((c) => ({ key: `${c.logKey}/${c.stream}/${pad(c.seq)}`, value: c.text })),
    );
  }

  /** One batch of records; a refused write names what it was and how big. */
  private write(what: string, records: Array<{ key: string; value: unknown }>): Promise<void> {
    const bytes = () => records.reduce((sum, { value }) => sum + Buffer.byteLength(JSON.stringify(value) ?? ""), 0);
    return writing(what, bytes, () => this.backend.putRecords(records));
  }

  /** A log's chunks in the order they were written, read as iterated (a 100 MB log is never held whole). */
  async *streamLog(logKey: string, stream: LogStream): AsyncGenerator<string> {
    for await (const { value } of this.backend.iterateRecords<string>(`${logKey}/${stream}/`)) yield value;
  }

  /** The log's chunks from the `from`-th on (0-based): how a reader follows a running task's output. */
  async logChunksFrom(logKey: string, stream: LogStream, from: number): Promise<string[]> {
    const keys = (await this.backend.listKeys(`${logKey}/${stream}/`)).slice(from);
    return Promise.all(keys.map(async (key) => (await this.backend.getRecord<string>(key)) ?? ""));
  }

  async readLog(logKey: string, stream: LogStream): Promise<string> {
    let text = "";
    for await (const chunk of this.streamLog(logKey, stream)) text += chunk;
    return text;
  }
}

function runRecord(run: RunRecord): { key: string; value: Omit<RunRecord, "tags"> } {
  const { tags: _tags, ...stored } = run;
  return { key: `runs/${run.flow}/${run.runId}`, value: stored };
}

function tagKey(flow: string, runId: string, encodedTag: string): string {
  return `tags/${flow}/${runId}/${encodedTag}`;
}

type TaskAddress = Pick<TaskRecord, "flow" | "runId" | "step" | "taskId">;

function liveCardKey(task: TaskAddress, attempt: number): string {
  return `cards/${pathspecOf(task)}/${attempt}`;
}

function pathspecOf(task: TaskAddress): string {
  return `${task.flow}/${task.runId}/${task.step}/${task.taskId}`;
}

export function taskKey(task: Pick<TaskRecord, "flow" | "runId" | "step" | "taskId">): string {
  return `tasks/${task.flow}/${task.runId}/${task.step}/${task.taskId}`;
}

export function logKeyFor(flow: string, runId: string, step: string, taskId: string, attempt: number): string {
  return `logs/${flow}/${runId}/${step}/${taskId}/${attempt}`;
}

/**
 * The log key of another attempt of the task. The key ends in the attempt; a task cloned by
 * resume keeps its origin's key, so its earlier attempts are the origin's too.
 */
export function attemptLogKey(task: Pick<TaskRecord, "logKey">, attempt: number): string {
  return `${task.logKey.slice(0, task.logKey.lastIndexOf("/"))}/${attempt}`;
}
