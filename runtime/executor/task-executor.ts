/**
 * Where tasks run. The scheduler only knows this interface; the worker-thread pool is the
 * one implementation today, and a distributed executor (a queue of remote workers) can
 * take its place.
 */
import type { StepDecorators } from "../../src/core/flow/registry.js";
import type { CompiledFlow } from "../compile/compiled-paths.js";
import type { ResponseTo, WorkerRequest } from "../protocol.js";

export interface StepRuntimeOptions {
  step: string;
  decorators: StepDecorators;
  /** Dependency environment directory for the step, if it has one. */
  envDir?: string;
  /** The flow as the step's workers import it: compiled with the step's environment resolved in. */
  flow: CompiledFlow;
}

export interface TaskExecutor {
  /**
   * Runs one request on a worker of the step's pool. Resolves with the worker's answer;
   * rejects only when the worker itself died (exit, out of memory, timeout), with a
   * TaskFailedError saying which. Either way, processes the task started and left running
   * are ended first.
   */
  run<R extends WorkerRequest>(options: StepRuntimeOptions, request: R): Promise<ResponseTo<R>>;
  /** Starts the step's workers ahead of its first task so it does not wait for a cold start. */
  prewarm(options: StepRuntimeOptions): void;
  /** The step will not run again in this run: its workers may stop. */
  release(step: string): void;
  close(): Promise<void>;
}
