/**
 * Server-sent events that keep a page current while a run goes. The server reads the
 * datastore once per interval for each run being watched, however many pages watch it
 * (a run's watchers share one reader), and sends only what changed; a browser never polls.
 *
 * Run pages get `state` events ({ status, steps }) and re-fetch their timeline when told;
 * task pages get `log` events ({ stream, text }), `card` events when the card was refreshed,
 * and `status` when the task ends. Both get `end` when there is nothing more to follow.
 */
import type { ServerResponse } from "node:http";
import { attemptLogKey, type MetadataStore } from "../../runtime/metadata/metadata-store.js";
import type { RunRecord, TaskRecord } from "../../runtime/metadata/records.js";
import { observedStatus } from "../../runtime/metadata/run-liveness.js";
import { countsText } from "./dag-svg.js";
import { durationText } from "./layout.js";
import { runDurationMs, stepSummaries } from "./ui-data.js";

const RUN_INTERVAL_MS = 1000;
const TASK_INTERVAL_MS = 500;
const KEEPALIVE_MS = 15_000;

export class EventStream {
  private readonly keepalive: NodeJS.Timeout;
  closed = false;

  constructor(private readonly response: ServerResponse, onClose: () => void) {
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
    response.write("retry: 3000\n\n");
    this.keepalive = setInterval(() => response.write(": keepalive\n\n"), KEEPALIVE_MS);
    response.on("close", () => {
      this.closed = true;
      clearInterval(this.keepalive);
      onClose();
    });
  }

  send(event: string, data: unknown): void {
    if (!this.closed) this.response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    this.send("end", {});
    this.response.end();
  }
}

interface RunWatcher {
  streams: Set<EventStream>;
  timer?: NodeJS.Timeout;
  /** The last state sent. */
  last: string;
}

/**
 * One reader per watched run, shared by every page watching it. It reads again RUN_INTERVAL_MS
 * after a read, or twice as long as the read took if that is longer: a run of 10,000 tasks on
 * S3 is read at most half the time, never back to back.
 */
export class RunWatchers {
  private readonly watchers = new Map<string, RunWatcher>();

  constructor(private readonly metadata: MetadataStore) {}

  watch(run: RunRecord, response: ServerResponse): void {
    const key = `${run.flow}/${run.runId}`;
    const stream = new EventStream(response, () => this.unwatch(key, stream));
    const watcher = this.watchers.get(key);
    if (watcher) return void watcher.streams.add(stream);
    this.watchers.set(key, { streams: new Set([stream]), last: "" });
    void this.read(key, run);
  }

  close(): void {
    for (const key of [...this.watchers.keys()]) this.stop(key);
  }

  private unwatch(key: string, stream: EventStream): void {
    const watcher = this.watchers.get(key);
    watcher?.streams.delete(stream);
    if (watcher && watcher.streams.size === 0) this.stop(key);
  }

  private stop(key: string): void {
    const watcher = this.watchers.get(key);
    if (!watcher) return;
    clearTimeout(watcher.timer);
    this.watchers.delete(key);
    for (const stream of watcher.streams) stream.end();
  }

  private async read(key: string, run: RunRecord): Promise<void> {
    const started = Date.now();
    let finished = false;
    try {
      const record = (await this.metadata.getRun(run.flow, run.runId)) ?? run;
      const [status, tasks] = await Promise.all([observedStatus(this.metadata, record), this.metadata.listTasks(run.flow, run.runId)]);
      const steps = stepSummaries(record.graph ?? { steps: [] }, tasks).map((step) => ({ ...step, counts: countsText(step) }));
      const state = { status, took: durationText(runDurationMs(record)), steps, tasks: tasks.length };
      const text = JSON.stringify(state);
      const watcher = this.watchers.get(key);
      // A page starts from the state it was built with: only changes are sent.
      if (watcher && text !== watcher.last) {
        watcher.last = text;
        for (const stream of watcher.streams) stream.send("state", state);
      }
      finished = status !== "running";
    } catch (error) {
      for (const stream of this.watchers.get(key)?.streams ?? []) stream.send("problem", { message: (error as Error).message });
    }
    const watcher = this.watchers.get(key);
    if (!watcher) return;
    if (finished) return this.stop(key);
    watcher.timer = setTimeout(() => void this.read(key, run), Math.max(RUN_INTERVAL_MS, 2 * (Date.now() - started)));
  }
}

/** Follows one attempt of a task for one page: new output from the chunk counts the page has, card refreshes, the end. */
export function followTask(metadata: MetadataStore, task: TaskRecord, attempt: number, from: TaskPageState, response: ServerResponse): void {
  const logKey = attemptLogKey(task, attempt);
  const counts = { stdout: from.stdout, stderr: from.stderr };
  let cardAt = from.cardAt;
  let reading = false;
  const read = async () => {
    if (reading || stream.closed) return;
    reading = true;
    try {
      const record = (await metadata.getTask(task.flow, task.runId, task.step, task.taskId)) ?? task;
      for (const name of ["stdout", "stderr"] as const) {
        const chunks = await metadata.logChunksFrom(logKey, name, counts[name]);
        counts[name] += chunks.length;
        if (chunks.length > 0) stream.send("log", { stream: name, text: chunks.join(""), chunks: counts[name] });
      }
      const card = await metadata.taskCard(record);
      if (card && card.updatedAt !== cardAt) {
        stream.send("card", { updatedAt: card.updatedAt });
        cardAt = card.updatedAt;
      }
      if (record.status !== "running" || record.attempt !== attempt) {
        clearInterval(timer);
        stream.send("status", { status: record.attempt === attempt ? record.status : "failed" });
        stream.end();
      }
    } catch (error) {
      stream.send("problem", { message: (error as Error).message });
    } finally {
      reading = false;
    }
  };
  const stream = new EventStream(response, () => clearInterval(timer));
  const timer = setInterval(() => void read(), TASK_INTERVAL_MS);
  void read();
}

/** What a task page already shows: chunks of each stream, and the card of that time. */
export interface TaskPageState {
  stdout: number;
  stderr: number;
  cardAt?: string;
}
