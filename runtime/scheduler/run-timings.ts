/**
 * Where a run's time went, phase by phase: what `flowrun run --timings` prints and the bench
 * reports. Worker phases are summed over tasks (they overlap when tasks run in parallel),
 * so the table says where the work was, and the run's wall time how long it took.
 */
import type { WorkerTiming } from "../protocol.js";

/** In the order a run goes through them. */
export const TIMING_PHASES = [
  ["cliStart", "CLI start (process to run start)"],
  ["graph", "flow graph"],
  ["compile", "compile the flow"],
  ["datastore", "open the datastore"],
  ["environments", "@dependencies environments"],
  ["parameters", "parameters (first worker)"],
  ["waitForWorker", "wait for a worker"],
  ["bootMs", "worker boot"],
  ["importMs", "datastore and flow import"],
  ["inputsMs", "task inputs"],
  ["bodyMs", "step bodies (user code)"],
  ["saveMs", "save artifacts"],
  ["commit", "commit tasks"],
] as const;

export type TimingPhase = (typeof TIMING_PHASES)[number][0];

export interface PhaseTotal {
  phase: TimingPhase;
  label: string;
  ms: number;
  /** How many times the phase happened: tasks, workers. */
  count: number;
}

export class RunTimings {
  private readonly totals = new Map<TimingPhase, { ms: number; count: number }>();

  add(phase: TimingPhase, ms: number): void {
    const total = this.totals.get(phase) ?? { ms: 0, count: 0 };
    total.ms += Math.max(0, ms);
    total.count++;
    this.totals.set(phase, total);
  }

  /** Times `work` as `phase`. */
  async time<T>(phase: TimingPhase, work: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work;
    } finally {
      this.add(phase, performance.now() - started);
    }
  }

  addWorker(timing: WorkerTiming | undefined): void {
    for (const [phase, ms] of Object.entries(timing ?? {}) as Array<[keyof WorkerTiming, number | undefined]>) {
      if (ms !== undefined) this.add(phase, ms);
    }
  }

  phases(): PhaseTotal[] {
    return TIMING_PHASES.flatMap(([phase, label]) => {
      const total = this.totals.get(phase);
      return total ? [{ phase, label, ...total }] : [];
    });
  }
}
