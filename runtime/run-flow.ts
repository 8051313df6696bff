/**
 * One run of a flow, start to end: validate the graph, open the datastore, resolve the
 * parameters in a worker (callable defaults see `current`), record the run, schedule its
 * tasks, and record how it ended. The CLI's `run`/`resume` and the `Runner` API call this.
 */
import { resolve } from "node:path";
import { FlowDefinitionError, rehydrateError, RemoteQueueError, serializeError } from "../src/core/errors.js";
import type { CurrentState } from "../src/core/flow/current.js";
import type { StepDecorators } from "../src/core/flow/registry.js";
import { loadFlowGraphCached } from "../src/core/graph/graph-cache.js";
import { validateGraph } from "../src/core/graph/validate-graph.js";
import { config } from "../src/core/config.js";
import type { FlowGraph } from "../src/core/graph/types.js";
import { openBackend } from "./datastore/open-backend.js";
import type { DatastoreConfig } from "../src/core/datastore-config.js";
import type { StorageBackend } from "./datastore/storage-backend.js";
import type { StepRuntimeOptions } from "./executor/task-executor.js";
import { WorkerPoolExecutor } from "./executor/worker-pool-executor.js";
import { MetadataStore } from "./metadata/metadata-store.js";
import type { RunRecord } from "./metadata/records.js";
import { flowSource } from "./metadata/flow-source.js";
import { runGraph } from "./metadata/run-graph.js";
import { startHeartbeat, thisOrchestrator } from "./metadata/run-liveness.js";
import type { ParametersResult } from "./protocol.js";
import { compileFlow } from "./compile/flow-compiler.js";
import type { CompiledFlow } from "./compile/compiled-paths.js";
import { newRunId } from "./run-id.js";
import { runIdentity } from "./run-context.js";
import { LogSink } from "./scheduler/log-sink.js";
import { RunTimings, type PhaseTotal } from "./scheduler/run-timings.js";
import type { RunObserver } from "./scheduler/task-events.js";
import { TaskScheduler, type SchedulerOutcome } from "./scheduler/task-scheduler.js";
import { LocalTaskRunner, type TaskRunner } from "./scheduler/task-attempt.js";
import type { RemoteTaskRunner, RemoteTaskRunnerOptions } from "./remote/remote-task-runner.js";
import type { CodePackageRef } from "./remote/code-package.js";
import { ResumePlan } from "./resume/resume-plan.js";
import { mergeDependencies } from "./environments/environment-spec.js";
import { withMissingPackageHint } from "./environments/missing-package-hint.js";

export interface RunFlowOptions {
  flowFile: string;
  rawParameters: Record<string, string | boolean>;
  datastore: DatastoreConfig;
  maxWorkers: number;
  maxNumSplits: number;
  production: boolean;
  branch?: string;
  tags: string[];
  /** `--with` decorators, applied to every step (a step's own options win). */
  withDecorators: StepDecorators;
  observer: RunObserver;
  /** Called with the run ID as soon as it exists (the CLI writes --run-id-file here). */
  onRunId?: (runId: string) => void;
  /** `resume`: the run to reuse, and the step from which everything re-runs. */
  resume?: { origin: RunRecord; step?: string };
  /** Cancels the run (Ctrl-C): nothing new starts, running tasks finish. */
  signal?: AbortSignal;
  /** Stops the running tasks too (a second Ctrl-C). */
  killSignal?: AbortSignal;
  /** Redis of the task queue, for steps with `@remote` (or `--with remote`). */
  redisUrl?: string;
}

export interface RunFlowResult extends SchedulerOutcome {
  flow: string;
  runId: string;
  durationMs: number;
  steps: number;
  location: string;
  /** Where the run's time went, phase by phase. */
  timings: PhaseTotal[];
}

export async function loadValidGraph(flowFile: string): Promise<FlowGraph> {
  const graph = await loadFlowGraphCached(flowFile);
  const errors = validateGraph(graph).filter((issue) => issue.severity === "error");
  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more: run \`flowrun check ${flowFile}\`)` : "";
    throw new FlowDefinitionError(`${first.message}${more}`, { where: `${first.loc.file}:${first.loc.line}`, hint: first.hint });
  }
  return graph;
}

export async function runFlow(options: RunFlowOptions): Promise<RunFlowResult> {
  const started = performance.now();
  const timings = new RunTimings();
  // performance.now() counts from the process's start: what the CLI took to get here.
  timings.add("cliStart", started);
  const flowFile = resolve(options.flowFile);
  const runId = newRunId();
  const logChannel = `flowrun-logs-${runId}`;
  const executor = new WorkerPoolExecutor({ setup: { datastore: options.datastore, logChannel }, maxWorkers: options.maxWorkers });
  let backend: StorageBackend | undefined;
  let logs: LogSink | undefined;
  let heartbeat: { stop(): Promise<void> } | undefined;
  let remote: RemoteSteps | undefined;
  try {
    const compiling = timings.time("compile", compileFlow(flowFile));
    // The first worker's cold start overlaps parsing the graph and opening the datastore.
    compiling.then((flow) => executor.prewarm({ step: "start", decorators: {}, flow }), () => {});
    // A flow the graph rejects says so before anything the compiler finds.
    const graph = await timings.time("graph", loadValidGraph(flowFile));
    const flow = await compiling;
    const parametersStep: StepRuntimeOptions = { step: "start", decorators: {}, flow };
    const source = flowSource(flowFile);
    backend = await timings.time("datastore", openBackend(options.datastore));
    executor.datastoreOpened();
    const metadata = new MetadataStore(backend);
    logs = new LogSink(logChannel, metadata, options.observer);
    const identityOptions = { production: options.production, branch: options.branch };
    // Parameter defaults run before the flow's @project is known here: the worker completes this.
    const base: Omit<CurrentState, "stepName" | "taskId" | "retryCount"> = {
      flowName: graph.className,
      runId,
      originRunId: options.resume?.origin.runId ?? null,
      ...runIdentity({ ...identityOptions, projectName: null, flowName: graph.className }),
      parameterNames: graph.parameters.map((p) => p.field),
      tags: options.tags,
    };
    // A resume takes the origin's values as recorded, not what the environment says today.
    const rawParameters = options.resume ? options.rawParameters : { ...config.parameters(graph.parameters.map((p) => p.name)), ...options.rawParameters };
    const resolving = executor.run(
      parametersStep,
      { kind: "parameters", current: { ...base, stepName: "start", taskId: "0", retryCount: 0 }, identity: identityOptions, raw: rawParameters },
    );
    if (!options.resume) prewarmAfterStart(graph, options.withDecorators, executor, flow);
    const init = await timings.time("parameters", resolving);
    timings.addWorker(init.timing);
    if (!init.ok) throw rehydrateError(init.error);
    const { steps, flowOptions } = init;
    const { refs, preview } = options.resume ? resumedParameters(init, options.resume.origin) : init;
    const resume = options.resume && (await ResumePlan.load(metadata, graph, options.resume.origin, options.resume.step));
    const identity = runIdentity({ ...identityOptions, projectName: flowOptions.project?.name ?? null, flowName: graph.className });
    const current = { ...base, ...identity, parameterNames: Object.keys(refs) };
    const stepOptions = new Map<string, StepRuntimeOptions>(
      [...graph.steps.keys()].map((step) => [step, { step, decorators: { ...options.withDecorators, ...steps[step] }, flow }]),
    );
    // Each step's packages, the class's @dependencies included: what its environment holds.
    const declared = new Map([...stepOptions].map(([step, o]) => [step, mergeDependencies(flowOptions.dependencies?.packages, o.decorators.dependencies?.packages)]));
    const environments = await buildEnvironments(graph, stepOptions, declared, options, timings);
    const remoteSteps = [...stepOptions.values()].filter((step) => step.decorators.remote).map((step) => step.step);
    if (remoteSteps.length > 0) {
      remote = await openRemoteRunner({ ...options, redisUrl: options.redisUrl ?? config.redisUrl() }, {
        backend, metadata, flowFile, remoteSteps, run: `${graph.className}/${runId}`,
        environment: (step) => ({ declared: Object.fromEntries(declared), environmentLock: environments[step] }),
      });
    }
    const orchestrator = thisOrchestrator();
    const run: RunRecord = {
      flow: graph.className,
      runId,
      user: identity.username,
      parameters: preview,
      parameterRefs: refs,
      rawParameters,
      tags: options.tags,
      systemTags: identity.systemTags,
      flowFile: source.file,
      codeHash: source.hash,
      status: "running",
      createdAt: new Date().toISOString(),
      orchestrator,
      originRunId: options.resume?.origin.runId,
      resumeStep: options.resume?.step,
      environments,
      codePackage: remote?.code.hash,
      graph: runGraph(graph),
    };
    await metadata.createRun(run);
    heartbeat = startHeartbeat(metadata, run, orchestrator.heartbeatSeconds);
    options.onRunId?.(runId);

    const local = new LocalTaskRunner({
      executor,
      metadata,
      logs,
      timings,
      explainFailure: (step, error) => withMissingPackageHint(error, step, declared),
    });
    const runner = remote ? routedByStep(local, remote.runner) : local;
    const scheduler = new TaskScheduler({
      graph,
      runner,
      metadata,
      observer: options.observer,
      stepOptions: (step) => stepOptions.get(step)!,
      currentBase: current,
      parameterNames: Object.keys(refs),
      parameterRefs: refs,
      maxWorkers: options.maxWorkers,
      maxNumSplits: options.maxNumSplits,
      resume,
    });
    const onAbort = () => scheduler.cancel();
    const onKill = () => {
      scheduler.cancel();
      void executor.close();
      void remote?.runner.cancel();
    };
    options.signal?.addEventListener("abort", onAbort);
    options.killSignal?.addEventListener("abort", onKill);
    const outcome = await scheduler.run();
    options.signal?.removeEventListener("abort", onAbort);
    options.killSignal?.removeEventListener("abort", onKill);

    const failure = outcome.failures[0];
    Object.assign(run, {
      status: outcome.status,
      finishedAt: new Date().toISOString(),
      stats: { tasks: outcome.tasks, cloned: outcome.cloned, failed: outcome.failures.length },
      error: failure ? { ...failure.error, pathspec: failure.pathspec } : undefined,
    });
    const result = {
      ...outcome,
      flow: graph.className,
      runId,
      durationMs: performance.now() - started,
      steps: graph.steps.size,
      location: backend.location,
      timings: timings.phases(),
    };
    try {
      await metadata.putRun(run);
    } catch (error) {
      // The datastore went away (an S3 endpoint died) or cannot take even this small record
      // (a full disk): the run still reads as running; what committed is kept; say how to resume.
      result.status = "failed";
      result.failures = [...outcome.failures, { pathspec: `${graph.className}/${runId}`, error: serializeError(error) }];
    }
    return result;
  } finally {
    await heartbeat?.stop();
    await remote?.runner.close();
    await logs?.close();
    await executor.close();
    await backend?.close();
  }
}

interface RemoteSteps {
  runner: RemoteTaskRunner;
  code: CodePackageRef;
}

/**
 * The task queue for the run's remote steps, before the run is recorded: a local datastore
 * (which no other machine can read) or an unreachable Redis stops the run with exit 2. The
 * run's code is packaged into the datastore for the workers. Loaded only for such runs.
 */
async function openRemoteRunner(
  options: RunFlowOptions & { redisUrl: string },
  run: Pick<RemoteTaskRunnerOptions, "metadata" | "run" | "environment"> & { backend: StorageBackend; flowFile: string; remoteSteps: string[] },
): Promise<RemoteSteps> {
  if (options.datastore.kind !== "s3") {
    throw new RemoteQueueError(`step${run.remoteSteps.length > 1 ? "s" : ""} ${run.remoteSteps.join(", ")} run on the task queue, but the datastore is local (${options.datastore.root}): workers on other machines cannot read it`, {
      hint: "use --datastore s3 --datastore-root s3://bucket/prefix (workers use the same), or run without --with remote / @remote",
    });
  }
  const { RemoteTaskRunner } = await import("./remote/remote-task-runner.js");
  const { publishCodePackage } = await import("./remote/code-package.js");
  const code = await publishCodePackage(run.flowFile, run.backend);
  const runner = await RemoteTaskRunner.open({
    redisUrl: options.redisUrl,
    datastore: options.datastore,
    code,
    run: run.run,
    metadata: run.metadata,
    environment: run.environment,
    observer: options.observer,
  });
  return { runner, code };
}

/** Remote steps go to the queue, the others run here. */
function routedByStep(local: TaskRunner, remote: TaskRunner): TaskRunner {
  const pick = (step: StepRuntimeOptions) => (step.decorators.remote ? remote : local);
  return {
    run: (step, attempt) => pick(step).run(step, attempt),
    prewarm: (step) => pick(step).prewarm(step),
    release: (step) => {
      local.release(step);
      remote.release(step);
    },
  };
}

/**
 * A resume reuses the origin's parameter values exactly (a callable default may differ
 * now); a parameter the code declares now but the origin lacked takes the value just
 * resolved for it (its default), and one the code no longer declares is left out.
 */
function resumedParameters(resolved: ParametersResult, origin: RunRecord): Pick<ParametersResult, "refs" | "preview"> {
  return {
    refs: Object.fromEntries(Object.entries(resolved.refs).map(([field, ref]) => [field, origin.parameterRefs?.[field] ?? ref])),
    preview: Object.fromEntries(Object.entries(resolved.preview).map(([name, value]) => [name, name in origin.parameters ? origin.parameters[name] : value])),
  };
}

/** Decorators that give a step a pool other than its plain one (another compiled flow, a memory limit) or none here. */
const OWN_POOL_DECORATORS: ReadonlySet<string> = new Set<keyof StepDecorators>(["dependencies", "isolate", "resources", "remote"]);

/**
 * Starts the workers of the steps right after `start` while the first worker resolves the
 * parameters: this thread only waits then, so a core is free, and they have booted by the
 * time `start` commits (a worker's ~0.15 s boot is longer than most steps; the scheduler's
 * own warming starts when `start` does). Only a step the static graph shows on its plain
 * pool: decorators read at run time (parameters resolved) may still move one elsewhere,
 * which leaves this worker idle, never a task in the wrong place.
 */
function prewarmAfterStart(graph: FlowGraph, withDecorators: StepDecorators, executor: WorkerPoolExecutor, flow: CompiledFlow): void {
  const ownPool = (names: Iterable<string>) => [...names].some((name) => OWN_POOL_DECORATORS.has(name));
  if (ownPool(Object.keys(withDecorators)) || ownPool(graph.decorators.map((d) => d.name))) return;
  for (const name of graph.steps.get("start")!.next) {
    if (!ownPool(graph.steps.get(name)!.decorators.map((d) => d.name))) executor.prewarm({ step: name, decorators: {}, flow });
  }
}

/**
 * Builds (or finds in the cache) every step's dependency environment before the first
 * task, so a missing package fails the run before anything runs. A resume installs the
 * origin's exact versions.
 */
async function buildEnvironments(
  graph: FlowGraph,
  stepOptions: Map<string, StepRuntimeOptions>,
  declared: ReadonlyMap<string, Record<string, string>>,
  options: RunFlowOptions,
  timings: RunTimings,
): Promise<Record<string, Record<string, string>>> {
  const locks: Record<string, Record<string, string>> = {};
  const wanted = [...stepOptions.values()]
    .map((step) => ({ step, packages: declared.get(step.step)! }))
    .filter(({ packages }) => Object.keys(packages).length > 0);
  if (wanted.length === 0) return locks;
  const { ensureEnvironment } = await import("./environments/environment-builder.js");
  const building = Promise.all(
    wanted.map(async ({ step, packages }) => {
      const env = await ensureEnvironment(packages, {
        lock: options.resume?.origin.environments?.[step.step],
        label: `${graph.className}/${step.step}`,
        onProgress: (line) => options.observer.info(`[${graph.className}/${step.step}] environment: ${line}`),
      });
      if (env.built) options.observer.info(`[${graph.className}/${step.step}] environment ${env.id} built`);
      step.envDir = env.dir;
      step.flow = await compileFlow(step.flow.file, { envDir: env.dir });
      locks[step.step] = env.lock;
    }),
  );
  await timings.time("environments", building);
  return locks;
}
