/**
 * The messages between the scheduler (main thread) and a task worker (piscina thread).
 * Everything that crosses `postMessage` is one of these types; errors travel serialised.
 * Each request kind has its own response type (`ResponseTo<R>`), and every response
 * carries the `kind` of its request and `ok`, so callers narrow without casts.
 */
import type { MessagePort } from "node:worker_threads";
import type { SerializedError } from "../src/core/errors.js";
import type { CurrentState } from "../src/core/flow/current.js";
import type { NextCall } from "../src/core/flow/flowspec.js";
import type { CompiledFlow } from "./compile/compiled-paths.js";
import type { ArtifactRef } from "./datastore/content-store.js";
import type { DatastoreConfig } from "../src/core/datastore-config.js";
import type { ForeachFrame, StoredCard } from "./metadata/records.js";
import type { SourceLocation, TransitionKind } from "../src/core/graph/types.js";
import type { FlowOptions, StepDecorators } from "../src/core/flow/registry.js";
import type { IdentityOptions } from "./run-context.js";
import type { ProcessTableRef } from "./task-process-table.js";
import type { TaskProgressRef } from "./task-progress.js";

/**
 * What a worker is for: its pool's flow and datastore. Every request carries it (a worker
 * may start before the flow is known); a worker binds to the first it is sent.
 */
export interface WorkerSetup {
  /** The flow, compiled for this pool's step (its dependency environment resolved in). */
  flow: CompiledFlow;
  datastore: DatastoreConfig;
  /** BroadcastChannel on which the worker publishes task output. */
  logChannel: string;
}

/** What the graph says a step's `this.next` call must look like. */
export interface ExpectedTransition {
  kind: TransitionKind;
  next: string[];
  foreach?: string;
  condition?: string;
  switchCases?: Record<string, string>;
}

/**
 * Where the step is in the flow file and where its body assigns each artifact, from the
 * static graph: a task that cannot store an artifact names the line that assigned it.
 */
export interface StepSource {
  step: string;
  loc: SourceLocation;
  assignments: Record<string, SourceLocation[]>;
}

export interface ParametersRequest {
  kind: "parameters";
  /** The worker fills in what the flow's @project decides (project, branch, namespace, system tags). */
  current: CurrentState;
  identity: IdentityOptions;
  /** `--name value` pairs from the command line (booleans already resolved). */
  raw: Record<string, string | boolean>;
}

export interface ParametersResult {
  kind: "parameters";
  ok: true;
  /** Artifact refs of the parameter values, by class field name. */
  refs: Record<string, ArtifactRef>;
  /** JSON-safe preview of the values by parameter name, for the run record. */
  preview: Record<string, unknown>;
  /** Decorator options of every step and of the flow class, as the runtime loaded them. */
  steps: Record<string, StepDecorators>;
  flowOptions: FlowOptions;
  timing?: WorkerTiming;
}

export interface TaskRequest {
  kind: "task";
  current: CurrentState;
  step: string;
  isJoin: boolean;
  expected: ExpectedTransition;
  source?: StepSource;
  /** Pathspecs of the tasks whose artifacts are this task's inputs (start: none). */
  parents: string[];
  /**
   * The run's parameter artifacts: the start task's inputs. A later task takes from here
   * only the parameters its inputs lack (after a resume, tasks cloned from the origin lack
   * those the code declared since).
   */
  parameterRefs: Record<string, ArtifactRef>;
  /** Names (fields) of the run's parameters: passed to every task, and the only inputs of a join. */
  parameterNames: string[];
  /** The splits this task is inside, outermost first: its foreach context. */
  foreachStack: ForeachFrame[];
  maxNumSplits: number;
  /** Set on the attempt that @catchError may absorb. */
  catchError?: { var?: string; printException: boolean; lastAttempt: boolean };
  /** The worker crashed on the last attempt: record this failure for @catchError without running the step. */
  recordFailure?: SerializedError;
  envVars?: Record<string, string>;
  /** The step's @card. */
  card?: StepDecorators["card"];
  /** Set for steps with @timeout: the worker posts on it when the task really starts. */
  startedPort?: MessagePort;
  /** Set by the executor: the TaskProcessTable in which the worker records the processes the task starts. */
  processTable?: ProcessTableRef;
  /** Set by the executor: the TaskProgress in which the worker records when it took the task up. */
  progress?: TaskProgressRef;
}

/**
 * Several tasks of one step in one message (runtime/executor/task-batcher.ts): the worker runs
 * them one after another and answers once, with a response for each task it ran, in order.
 * It starts no further task once `budgetMs` have passed: the tasks after the last response
 * did not start, and the executor sends them again. The tasks share one TaskProgress, in
 * which the worker also keeps each answer as the task finishes.
 */
export interface TaskBatch {
  kind: "batch";
  tasks: Array<TaskRequest & { progress: TaskProgressRef }>;
  budgetMs: number;
}

export interface TaskBatchResponse {
  kind: "batch";
  responses: TaskResponse[];
}

/**
 * Where a request's time went inside the worker, in ms: what `flowrun run --timings` sums.
 * `bootMs` and `importMs` come with a worker's first answer only.
 */
export interface WorkerTiming {
  /** Thread start to ready for a flow: Node's worker start-up and flowrun's runtime. */
  bootMs?: number;
  /** Binding to the flow: opening the datastore, importing the compiled flow and its modules. */
  importMs?: number;
  /** Before the step body: the parents' records and the inputs' refs. */
  inputsMs?: number;
  /** The step body: the user's code. */
  bodyMs?: number;
  /** After the body: checking, encoding, hashing and writing the artifacts. */
  saveMs?: number;
}

export interface TaskSuccess {
  kind: "task";
  ok: true;
  artifacts: Record<string, ArtifactRef>;
  next: NextCall | null;
  /** foreach: one ref per element, in order. */
  foreachElements?: ArtifactRef[];
  /** switch: the step chosen. */
  chosen?: string;
  /** The task's card, stored. */
  card?: StoredCard;
  /** How many log messages the task published (the scheduler waits for all of them). */
  logMessages: number;
  /** When the worker took the task up (epoch ms): its duration excludes the wait for a worker. */
  startedAt?: number;
  timing?: WorkerTiming;
}

/** A request of kind `K` that failed: the flow did not load, the step threw, ... */
export interface WorkerFailure<K extends WorkerRequest["kind"]> {
  kind: K;
  ok: false;
  error: SerializedError;
  /** A failed task's card, stored. */
  card?: StoredCard;
  /** How many log messages the task published before it failed. */
  logMessages: number;
  /** When the worker took the task up (epoch ms); absent when no worker did. */
  startedAt?: number;
  timing?: WorkerTiming;
}

export type WorkerRequest = ParametersRequest | TaskRequest;
/** What crosses to the worker: a request or a batch of tasks, with the setup of the pool it was sent to (added by the executor). */
export type WorkerMessage = (WorkerRequest | TaskBatch) & { setup: WorkerSetup };
export type ParametersResponse = ParametersResult | WorkerFailure<"parameters">;
export type TaskFailure = WorkerFailure<"task">;
export type TaskResponse = TaskSuccess | TaskFailure;
/** The response to a request of type `R`. */
export type ResponseTo<R extends WorkerRequest> = R extends TaskRequest ? TaskResponse : ParametersResponse;
export type WorkerResponse = ParametersResponse | TaskResponse;

/** Published on the log BroadcastChannel while a task runs. */
export interface LogMessage {
  pathspec: string;
  attempt: number;
  stream: "stdout" | "stderr";
  text: string;
}
