/**
 * Runs inside a piscina worker thread: imports the flow once per worker, then executes
 * one task per request. Nothing here throws across the thread boundary: every failure is
 * returned as a serialised error, because piscina would strip its type and fields.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FlowDefinitionError, FlowrunError, serializeError, type SerializedError } from "../../src/core/errors.js";
import { runAsTask, setCurrentState } from "../../src/core/flow/current.js";
import { setTaskDatastore } from "../../src/core/datastore-config.js";
import { setTaskFiles } from "../../src/core/flow/files.js";
import { isFlowClass, type FlowSpec } from "../../src/core/flow/flowspec.js";
import { frameLocation, userFrames } from "../../src/core/user-frames.js";
import { classMetadata, flowOptionsOf, stepsOf } from "../../src/core/flow/registry.js";
import { declaredParameters, resolveParameterValues } from "../../src/core/flow/parameter-values.js";
import { ContentStore, type ArtifactRef } from "../datastore/content-store.js";
import { FileStore } from "../datastore/file-store.js";
import { openBackend } from "../datastore/open-backend.js";
import { MetadataStore } from "../metadata/metadata-store.js";
import { FLOW_API_URL, sourcePathsIn, type CompiledFlow } from "../compile/compiled-paths.js";
import { runIdentity } from "../run-context.js";
import type { ParametersRequest, ParametersResponse, TaskBatch, TaskBatchResponse, TaskRequest, TaskResponse, WorkerMessage, WorkerRequest, WorkerResponse, WorkerSetup, WorkerTiming } from "../protocol.js";
import { TaskProcessTable } from "../task-process-table.js";
import { TaskProgress } from "../task-progress.js";
import { installChildProcessTracking, runWithChildTracking } from "./child-processes.js";
import { executeStep, type LoadedFlow } from "./execute-step.js";
import { installLogCapture, newTaskLogContext, publishTaskLog, runWithTaskLogs } from "./log-capture.js";
import { TaskCardCollector } from "./task-card.js";

const BIG_TASK_BYTES = 64 * 1024 * 1024;
/**
 * V8's `gc`, from a context of its own, made on first use. V8's flags are the process's, and
 * its code caches are only valid for the flags they were made with: while `--expose-gc` is
 * set, every thread compiles Node's built-in modules without their cache (~8 ms more for
 * each worker that starts), so the flag is set only for as long as the context takes.
 */
let collectGarbage: (() => void) | undefined;

/**
 * What a worker thread answers requests with. A worker starts before it knows which flow it
 * will run (the CLI spawns the first one while it is still loading): here it loads what
 * every task needs, and it binds to its pool's flow and datastore on the first request,
 * which carries them (or as it boots, when its pool knew them); it serves that step for the
 * rest of its life.
 */
export async function createTaskHandler(bindAtBoot?: WorkerSetup): Promise<(request: WorkerMessage) => Promise<WorkerResponse | TaskBatchResponse>> {
  installChildProcessTracking();
  // Loaded before any flow: compiled flows import it (and source maps are still off, see importFlow).
  await import(FLOW_API_URL);
  // From when Node set up this thread's environment (performance.now() counts from the
  // process's start, in every thread).
  const bootMs = performance.now() - performance.nodeTiming.environment;
  // A pool that knew its flow when it started this worker: bind now, before the first task.
  let bound = bindAtBoot && bind(bindAtBoot, bootMs);
  await bound;
  return async (request) => {
    const { setup } = request;
    bound ??= bind(setup, bootMs);
    const worker = await bound;
    if (setup.flow.url !== worker.setup.flow.url) {
      const error = new FlowrunError(`a worker bound to ${worker.setup.flow.url} was sent a task of ${setup.flow.url}`, { hint: "this is a bug in flowrun: please report it" });
      const failure = { kind: "task" as const, ok: false as const, error: serializeError(error), logMessages: 0 };
      return request.kind === "batch" ? { kind: "batch", responses: request.tasks.map(() => failure) } : { ...failure, kind: request.kind };
    }
    return request.kind === "batch" ? runBatch(request, (task) => answer(worker, task)) : answer(worker, request);
  };
}

/** A request run by its bound worker: its errors name the user's source files, its first answer carries the boot's timing. */
function answer(worker: BoundWorker, request: TaskRequest): Promise<TaskResponse>;
function answer(worker: BoundWorker, request: WorkerRequest): Promise<WorkerResponse>;
async function answer(worker: BoundWorker, request: WorkerRequest): Promise<WorkerResponse> {
  if (!worker.loaded) return { kind: request.kind, ok: false, error: worker.loadError!, logMessages: 0 };
  const response = await (request.kind === "parameters" ? resolveParameters(worker.loaded, request) : runTask(worker.loaded, request));
  if (!response.ok) response.error = inSourcePaths(response.error, worker.setup.flow);
  if (worker.boot) response.timing = { ...worker.boot, ...response.timing };
  worker.boot = undefined;
  return response;
}

/**
 * The batch's tasks in order, until its time budget is spent (at least one runs). Each answer
 * is also kept in the batch's shared progress as its task finishes: should a later task end
 * this thread, the tasks before it are answered from there instead of running again.
 */
async function runBatch(batch: TaskBatch, run: (task: TaskRequest) => Promise<TaskResponse>): Promise<TaskBatchResponse> {
  const deadline = performance.now() + batch.budgetMs;
  const progress = new TaskProgress(batch.tasks[0]!.progress.buffer);
  const responses: TaskResponse[] = [];
  for (const task of batch.tasks) {
    if (responses.length > 0 && performance.now() > deadline) break;
    const response = await run(task);
    responses.push(response);
    // No room left for it: it goes back now, with the batch's message, and the rest are sent again.
    if (!progress.record(response)) break;
  }
  return { kind: "batch", responses };
}

interface BoundWorker {
  setup: WorkerSetup;
  loaded?: LoadedFlow;
  loadError?: SerializedError;
  /** What starting up cost, for the first answer. */
  boot?: WorkerTiming;
}

async function bind(setup: WorkerSetup, bootMs: number): Promise<BoundWorker> {
  const started = performance.now();
  installLogCapture(setup.logChannel);
  setTaskDatastore(setup.datastore);
  try {
    // The pool's process opened the datastore before it ran any task (runFlow, QueueWorker).
    const backend = await openBackend(setup.datastore, { openInThisProcess: true });
    setTaskFiles(new FileStore(backend));
    const module = await importFlow(setup.flow);
    const boot = { bootMs, importMs: performance.now() - started };
    const flowClass = findFlowClass(module, setup.flow.file);
    return { setup, boot, loaded: { flowClass, flowFile: setup.flow.file, content: new ContentStore(backend), metadata: new MetadataStore(backend) } };
  } catch (error) {
    return { setup, loadError: inSourcePaths(serializeError(error), setup.flow) };
  }
}

/** A compiled module that failed names the user's source file, not the compile cache. */
function inSourcePaths(error: SerializedError, flow: CompiledFlow): SerializedError {
  return { ...error, message: sourcePathsIn(error.message, flow), stack: error.stack && sourcePathsIn(error.stack, flow) };
}

async function importFlow(flow: CompiledFlow): Promise<Record<string, unknown>> {
  try {
    // The compiled flow carries source maps, so stack traces name the user's .ts lines. Not
    // earlier: once they are on, Node reads the map of every module it loads (~20 ms a worker
    // for flowrun's own).
    process.setSourceMapsEnabled(true);
    return await import(flow.url);
  } catch (error) {
    if (error instanceof FlowrunError) throw error;
    const message = sourcePathsIn((error as Error)?.message ?? String(error), flow);
    const thrown = thrownWhileLoading(error);
    throw new FlowDefinitionError(`cannot load the flow: ${thrown ?? message.split("\n")[0]}`, {
      where: flow.file,
      hint: thrown
        ? "code at the top level of the flow's modules (decorators included) runs when the flow loads, and `flowrun check` runs none of it: fix that line, or move the work into the step that needs it"
        : "fix the error above; `flowrun check` validates the flow without running it",
      cause: error,
    });
  }
}

/**
 * `file:line:col: Type: message` of an error the user's own code threw while its module was
 * evaluated (`JSON.parse` of a bad file at the top level), so the one line the CLI prints
 * says where; undefined when no frame of the stack is the user's (a module not found).
 */
function thrownWhileLoading(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const at = userFrames(error.stack).map(frameLocation).find((loc) => loc !== undefined);
  return at && `${at.file}:${at.line}:${at.column}: ${error.name}: ${error.message.split("\n")[0]}`;
}

function findFlowClass(module: Record<string, unknown>, flowFile: string): typeof FlowSpec {
  const candidates = [module.default, ...Object.values(module)].filter(isFlowClass);
  if (candidates.length === 0) {
    throw new FlowDefinitionError("the file exports no FlowSpec class", {
      where: flowFile,
      hint: "write `export default class MyFlow extends FlowSpec { ... }`",
    });
  }
  const flowClass = candidates[0]!;
  for (const [name, record] of stepsOf(classMetadata(flowClass))) {
    if (!record.isStep) {
      throw new FlowDefinitionError(`method '${name}' has step decorators but no @step`, { where: flowFile, hint: `add @step to ${name}` });
    }
  }
  return flowClass;
}

async function resolveParameters(loaded: LoadedFlow, request: ParametersRequest): Promise<ParametersResponse> {
  const metadata = classMetadata(loaded.flowClass);
  const flowOptions = flowOptionsOf(metadata);
  const steps = Object.fromEntries([...stepsOf(metadata)].map(([name, record]) => [name, record.decorators]));
  const projectName = flowOptions.project?.name ?? null;
  setCurrentState({ ...request.current, ...runIdentity({ ...request.identity, projectName, flowName: request.current.flowName }) });
  try {
    const flow = new loaded.flowClass();
    const values = resolveParameterValues(declaredParameters(flow), request.raw);
    // In declaration order: the order of current.parameterNames.
    const saved = await Promise.all(values.map((p) => loaded.content.save(p.field, p.value)));
    const refs: Record<string, ArtifactRef> = Object.fromEntries(values.map((p, i) => [p.field, saved[i]!]));
    const preview = Object.fromEntries(values.map((p) => [p.name, jsonPreview(p.value)]));
    return { kind: "parameters", ok: true, refs, preview, steps, flowOptions: structuredClone(flowOptions) };
  } catch (error) {
    return { kind: "parameters", ok: false, error: serializeError(error), logMessages: 0 };
  } finally {
    setCurrentState(undefined);
  }
}

function jsonPreview(value: unknown): unknown {
  if (typeof value === "string" && value.length > 200) return `${value.slice(0, 200)}… (${value.length} chars)`;
  if (typeof value === "bigint") return value.toString();
  return value;
}

async function runTask(shared: LoadedFlow, request: TaskRequest): Promise<TaskResponse> {
  const startedAt = Date.now();
  if (request.progress) new TaskProgress(request.progress.buffer).markStarted(request.progress.index, startedAt);
  request.startedPort?.postMessage("started");
  request.startedPort?.close();
  const { current } = request;
  const logs = newTaskLogContext(`${current.flowName}/${current.runId}/${current.stepName}/${current.taskId}`, current.retryCount);
  // A store of its own: tasks that share this thread (a queue worker's) keep their prefetched inputs apart.
  const loaded: LoadedFlow = { ...shared, content: new ContentStore(shared.content.backend) };
  const task = { flow: current.flowName, runId: current.runId, step: current.stepName, taskId: current.taskId, attempt: current.retryCount };
  const card = new TaskCardCollector(request.card?.type, task, loaded.content, loaded.metadata, (text) => publishTaskLog(logs, "stderr", text));
  applyEnv(request.envVars);
  try {
    const step = () => executeStep(loaded, request, logs);
    const processes = request.processTable && new TaskProcessTable(request.processTable);
    const result = await runAsTask({ ...current, card }, () => runWithTaskLogs(logs, processes ? () => runWithChildTracking(processes, step) : step));
    return { ...result, card: await card.finish(), logMessages: logs.messages, startedAt };
  } catch (error) {
    // A failed task keeps the card it built, for whoever looks into why it failed.
    const stored = await card.finish().catch(() => undefined);
    return { kind: "task", ok: false, error: serializeError(error), ...(stored && { card: stored }), logMessages: logs.messages, startedAt };
  } finally {
    restoreEnv();
    // An idle worker keeps a finished task's big buffers until V8 feels heap pressure, which
    // ArrayBuffers barely cause: collect now so the next step's workers have the memory.
    // After the answer is posted, so the task's duration does not include it.
    if (loaded.content.bytesMoved > BIG_TASK_BYTES) setImmediate(collectGarbageNow);
    loaded.content.release();
  }
}

function collectGarbageNow(): void {
  if (!collectGarbage) {
    setFlagsFromString("--expose-gc");
    collectGarbage = runInNewContext("gc") as () => void;
    setFlagsFromString("--no-expose-gc");
  }
  collectGarbage();
}

/**
 * The step's @environment variables, set while any of its tasks runs: a thread serves one
 * step, so tasks sharing it set the same values, and the last one to finish restores them.
 */
let envTasks = 0;
let savedEnv: Record<string, string | undefined> = {};

function applyEnv(vars: Record<string, string> | undefined): void {
  if (envTasks++ > 0) return;
  savedEnv = {};
  for (const [key, value] of Object.entries(vars ?? {})) {
    savedEnv[key] = process.env[key];
    process.env[key] = value;
  }
}

function restoreEnv(): void {
  if (--envTasks > 0) return;
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}
