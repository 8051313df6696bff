/**
 * How far a worker thread got with the tasks it was sent, in memory shared with the main
 * thread, so that it outlives the worker: when each task started, and, for a batch, the
 * answer of each task it finished. The pool's gate reads the start times to see how long
 * tasks run. When a worker dies in the middle of a batch (a step's `process.exit`, a crash),
 * the answers it had not posted yet are read back here: the tasks that finished are
 * committed as they ran instead of running a second time.
 *
 * Layout: Int32 [task count, answers recorded, answer bytes used, largest answer's bytes],
 * then a BigInt64 per task (the epoch ms it started, 0 until then), then the answers, each a
 * Uint32 length and v8.serialize's bytes.
 */
import { deserialize, serialize } from "node:v8";

/** Where a task's progress is: the `index`th task of those sharing `buffer`. */
export interface TaskProgressRef {
  buffer: SharedArrayBuffer;
  index: number;
}

const HEADER_BYTES = 4 * Int32Array.BYTES_PER_ELEMENT;
const [TASK_COUNT, RECORDED, USED, LARGEST] = [0, 1, 2, 3];
const LENGTH_BYTES = Uint32Array.BYTES_PER_ELEMENT;

export class TaskProgress {
  private readonly header: Int32Array;
  private readonly started: BigInt64Array;
  private readonly answers: Uint8Array;

  /**
   * For `taskCount` tasks, with room for `answerBytes` of their answers (none for a task sent
   * alone: its answer is its message).
   */
  static forTasks(taskCount: number, answerBytes = 0): TaskProgress {
    const buffer = new SharedArrayBuffer(HEADER_BYTES + taskCount * BigInt64Array.BYTES_PER_ELEMENT + answerBytes);
    new Int32Array(buffer, 0, 1)[TASK_COUNT] = taskCount;
    return new TaskProgress(buffer);
  }

  /** Over a buffer `forTasks` made: the main thread's, or a worker's from a request's ref. */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / Int32Array.BYTES_PER_ELEMENT);
    const taskCount = this.header[TASK_COUNT]!;
    this.started = new BigInt64Array(buffer, HEADER_BYTES, taskCount);
    this.answers = new Uint8Array(buffer, HEADER_BYTES + taskCount * BigInt64Array.BYTES_PER_ELEMENT);
  }

  ref(index: number): TaskProgressRef {
    return { buffer: this.buffer, index };
  }

  /** Worker side: the task was taken up at `at` (epoch ms). */
  markStarted(index: number, at: number): void {
    Atomics.store(this.started, index, BigInt(at));
  }

  /** When the task started (epoch ms), or undefined if it has not. */
  startedAt(index: number): number | undefined {
    const at = Atomics.load(this.started, index);
    return at === 0n ? undefined : Number(at);
  }

  /** The start of the last task that started, or undefined if none has. */
  lastStart(): number | undefined {
    for (let i = this.started.length - 1; i >= 0; i--) {
      const at = this.startedAt(i);
      if (at !== undefined) return at;
    }
    return undefined;
  }

  /**
   * Worker side: keeps the answer of the next task in order. False when it does not fit (or
   * v8 cannot serialise it): the worker then posts what it has at once, before anything else
   * can run in the thread.
   */
  record(answer: unknown): boolean {
    let bytes: Buffer;
    try {
      bytes = serialize(answer);
    } catch {
      return false;
    }
    if (bytes.length > Atomics.load(this.header, LARGEST)) Atomics.store(this.header, LARGEST, bytes.length);
    const used = Atomics.load(this.header, USED);
    if (used + LENGTH_BYTES + bytes.length > this.answers.length) return false;
    new DataView(this.answers.buffer, this.answers.byteOffset + used).setUint32(0, bytes.length);
    this.answers.set(bytes, used + LENGTH_BYTES);
    Atomics.store(this.header, USED, used + LENGTH_BYTES + bytes.length);
    // Last: once the count says so, the answer is whole.
    Atomics.add(this.header, RECORDED, 1);
    return true;
  }

  /** The largest answer (bytes) the worker recorded or found no room for: the next batch's room follows it. */
  largestAnswer(): number {
    return Atomics.load(this.header, LARGEST);
  }

  /** Main thread: the answers recorded, in the order of the tasks. */
  recorded<T>(): T[] {
    const count = Atomics.load(this.header, RECORDED);
    const answers: T[] = [];
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = new DataView(this.answers.buffer, this.answers.byteOffset + offset).getUint32(0);
      answers.push(deserialize(this.answers.slice(offset + LENGTH_BYTES, offset + LENGTH_BYTES + length)) as T);
      offset += LENGTH_BYTES + length;
    }
    return answers;
  }
}
