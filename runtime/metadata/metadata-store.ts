/**
 * Where runs, tasks, done-markers and logs live in a StorageBackend, and the commit
 * protocol (see COMMIT-PROTOCOL.md): a task's artifacts are written by its worker first;
 * then its final TaskRecord and its done-marker are written in that order in one batch.
 * A task is successful only if its done-marker exists.
 *
 *   runs/<flow>/<runId>                       RunRecord
 *   tasks/<flow>/<runId>/<step>/<taskId>      TaskRecord
 *   done/<flow>/<runId>/<step>/<taskId>       DoneMarker
 *   splits/<flow>/<runId>/<step>/<taskId>     foreach element refs (read by `resume` only: every
 *                                             split reads its parent's TaskRecord, which must stay small)
 *   logs/<flow>/<runId>/<step>/<taskId>/<attempt>/<stream>/<seq>   text
 */
import type { ArtifactRef } from "../datastore/content-store.js";
import type { StorageBackend } from "../datastore/storage-backend.js";
import { writing } from "../datastore/write-failure.js";
import type { DoneMarker, RunRecord, TaskRecord } from "./records.js";

export type LogStream = "stdout" | "stderr";

const pad = (n: number) => String(n).padStart(8, "0");

export class MetadataStore {
  constructor(readonly backend: StorageBackend) {}

  async putRun(run: RunRecord): Promise<void> {
    await this.write(`the run record ${run.flow}/${run.runId}`, [{ key: `runs/${run.flow}/${run.runId}`, value: run }]);
  }

  async getRun(flow: string, runId: string): Promise<RunRecord | undefined> {
    return this.backend.getRecord<RunRecord>(`runs/${flow}/${runId}`);
  }

  /** Runs of one flow (or of all flows), oldest first: run IDs sort by start time. */
  async listRuns(flow?: string): Promise<RunRecord[]> {
    const records = await this.backend.listRecords<RunRecord>(flow ? `runs/${flow}/` : "runs/");
    return records.map((r) => r.value).sort((a, b) => a.runId.localeCompare(b.runId));
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

  async readLog(logKey: string, stream: LogStream): Promise<string> {
    return (await this.backend.listRecords<string>(`${logKey}/${stream}/`)).map((r) => r.value).join("");
  }
}

function pathspecOf(task: Pick<TaskRecord, "flow" | "runId" | "step" | "taskId">): string {
  return `${task.flow}/${task.runId}/${task.step}/${task.taskId}`;
}

export function taskKey(task: Pick<TaskRecord, "flow" | "runId" | "step" | "taskId">): string {
  return `tasks/${task.flow}/${task.runId}/${task.step}/${task.taskId}`;
}

export function logKeyFor(flow: string, runId: string, step: string, taskId: string, attempt: number): string {
  return `logs/${flow}/${runId}/${step}/${taskId}/${attempt}`;
}
