/**
 * The processes a task started that are still running, in memory shared by the task's worker
 * thread and the main thread. The worker adds a pid when the step spawns a process and clears
 * it when the process exits; once the task is over the main thread closes the table and ends
 * what is left, even when the worker was stopped (@timeout, a second Ctrl-C) and nothing can
 * run inside it any more. Shared memory rather than messages: a pid posted just before the
 * worker is stopped could arrive after the main thread has finished with the task.
 *
 * Layout (Int32): slot 0 is 1 once the table is closed; each other slot is free (0), a pid,
 * or minus the pid of a `detached` process, which leads a process group of its own.
 */

/** How many processes one task may have running at once. */
export const MAX_TASK_PROCESSES = 256;

const CLOSED = 0;

export interface StartedProcess {
  pid: number;
  /** Started `detached`: the process leads its own process group. */
  group: boolean;
}

export type AddOutcome = "added" | "full" | "closed";

const TABLE_BYTES = (MAX_TASK_PROCESSES + 1) * Int32Array.BYTES_PER_ELEMENT;

/** Where a task's table is: the `index`th of the tables in `buffer`. */
export interface ProcessTableRef {
  buffer: SharedArrayBuffer;
  index: number;
}

export class TaskProcessTable {
  private readonly slots: Int32Array;

  /** `count` tables in one shared buffer (a batch's tasks): one allocation, sent once. */
  static many(count: number): TaskProcessTable[] {
    const buffer = new SharedArrayBuffer(count * TABLE_BYTES);
    return Array.from({ length: count }, (_, index) => new TaskProcessTable({ buffer, index }));
  }

  constructor(readonly ref: ProcessTableRef = { buffer: new SharedArrayBuffer(TABLE_BYTES), index: 0 }) {
    this.slots = new Int32Array(ref.buffer, ref.index * TABLE_BYTES, MAX_TASK_PROCESSES + 1);
  }

  /**
   * Worker side. "closed": the task is already over (a callback it left behind spawned this
   * process), so the caller must end the process itself; the main thread may not see it.
   */
  add({ pid, group }: StartedProcess): AddOutcome {
    const entry = group ? -pid : pid;
    for (let i = 1; i < this.slots.length; i++) {
      if (Atomics.compareExchange(this.slots, i, 0, entry) === 0) {
        // Written before the check: either the main thread reads this slot after closing, or this sees it closed.
        return Atomics.load(this.slots, CLOSED) === 1 ? "closed" : "added";
      }
    }
    return "full";
  }

  /** Worker side: the process exited. */
  remove(pid: number): void {
    for (let i = 1; i < this.slots.length; i++) {
      if (Math.abs(Atomics.load(this.slots, i)) === pid) Atomics.store(this.slots, i, 0);
    }
  }

  /** Main thread: the task is over; returns the processes still listed. */
  close(): StartedProcess[] {
    Atomics.store(this.slots, CLOSED, 1);
    const started: StartedProcess[] = [];
    for (let i = 1; i < this.slots.length; i++) {
      const entry = Atomics.load(this.slots, i);
      if (entry !== 0) started.push({ pid: Math.abs(entry), group: entry < 0 });
    }
    return started;
  }
}
