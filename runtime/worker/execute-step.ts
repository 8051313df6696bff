/**
 * One task, inside the worker: build the flow object with its lazy inputs, call the step,
 * check the transition it asked for against the graph, and save what it produced.
 */
import { ArtifactError, ParameterError, serializeError, TransitionError } from "../../src/core/errors.js";
import type { CaughtError } from "../../src/core/flow/decorators.js";
import { isParameterDescriptor } from "../../src/core/flow/parameters.js";
import { bindTask, INPUT_ARTIFACTS, type FlowSpec, type ForeachContext, type NextCall, type TaskBinding } from "../../src/core/flow/flowspec.js";
import type { ArtifactRef, ContentStore } from "../datastore/content-store.js";
import type { MetadataStore } from "../metadata/metadata-store.js";
import type { ForeachFrame, TaskRecord } from "../metadata/records.js";
import type { ExpectedTransition, TaskRequest, TaskSuccess } from "../protocol.js";
import { ArtifactSlots } from "./artifact-slots.js";
import { publishTaskLog, type TaskLogContext } from "./log-capture.js";

/** The flow a worker imported, and the stores its tasks read and write. */
export interface LoadedFlow {
  flowClass: typeof FlowSpec;
  /** Absolute path of the flow file (to find the user's line in a stack). */
  flowFile: string;
  content: ContentStore;
  metadata: MetadataStore;
}

type StepResult = Omit<TaskSuccess, "logMessages">;

export async function executeStep(loaded: LoadedFlow, request: TaskRequest, logs: TaskLogContext): Promise<StepResult> {
  const started = performance.now();
  const { current } = request;
  const pathspec = `${current.flowName}/${current.runId}/${current.stepName}/${current.taskId}`;
  const parents = await loadParents(loaded, request.parents);
  const isStart = parents.length === 0;
  await loaded.content.prefetch([
    ...(isStart ? Object.values(request.parameterRefs) : []),
    ...parents.flatMap((p) => Object.values(p.artifacts ?? {})),
    ...request.foreachStack.flatMap((frame) => (frame.input ? [frame.input] : [])),
  ]);
  const flow = new loaded.flowClass() as FlowSpec & Record<string, unknown>;
  const initial = new Map(Object.entries(flow));
  const slots = new ArtifactSlots(loaded.content, pathspec, request.source);
  const parameterNames = new Set(request.parameterNames);

  const readOnly = (name: string) => (parameterNames.has(name) ? () => parameterAssigned(name, initial.get(name), pathspec) : undefined);
  const inputArtifacts = isStart ? request.parameterRefs : parents[0]!.artifacts!;
  for (const [name, ref] of Object.entries(inputArtifacts)) {
    if (!request.isJoin || parameterNames.has(name)) slots.define(flow, name, ref, readOnly(name));
  }
  for (const [name, ref] of Object.entries(request.parameterRefs)) {
    if (!slots.defines(name)) slots.define(flow, name, ref, readOnly(name));
  }
  refuseUnresolvedParameters(initial, slots, pathspec);

  const binding: TaskBinding = {
    pathspec,
    foreachStack: foreachContexts(loaded, request.foreachStack, pathspec),
    isJoin: request.isJoin,
    adoptArtifact: (name, source) => slots.define(flow, name, viewArtifacts(source)[name]!),
    artifactKey: (source, name) => viewArtifacts(source)[name]?.hash,
    artifactNames: (source) => Object.keys(viewArtifacts(source)),
    parameterNames,
  };
  bindTask(flow, binding);

  const method = flow[request.step];
  if (typeof method !== "function") {
    throw new TransitionError(`the flow class has no step method '${request.step}'`, { where: pathspec, hint: "run `flowrun check` on the flow" });
  }

  let caught: ReturnType<typeof serializeError> | undefined;
  const bodyStarted = performance.now();
  if (request.recordFailure) {
    caught = request.recordFailure;
  } else {
    try {
      await (request.isJoin ? method.call(flow, joinInputs(loaded, parents)) : method.call(flow));
    } catch (error) {
      if (!request.catchError?.lastAttempt) throw error;
      caught = serializeError(error);
    }
  }

  const bodyEnded = performance.now();
  if (caught) {
    // @catchError: the failure becomes an artifact and the run takes the graph's transition.
    const option = request.catchError!;
    if (option.printException) publishTaskLog(logs, "stderr", `@catchError caught: ${caught.stack ?? caught.message}\n`);
    if (option.var) {
      const artifact: CaughtError = {
        name: caught.name,
        message: caught.message,
        stack: caught.stack ?? null,
        source: sourceLine(caught.stack, loaded.flowFile),
        pathspec,
        attempt: current.retryCount,
      };
      flow[option.var] = artifact;
    }
    binding.next = caughtTransition(request.expected, pathspec);
  } else {
    checkTransition(binding.next, request.expected, pathspec);
  }

  const artifacts = await slots.collect(flow, initial);
  for (const [name, ref] of Object.entries(artifacts)) {
    if (ref.size >= LARGE_ARTIFACT_BYTES && inputArtifacts[name]?.hash !== ref.hash) publishTaskLog(logs, "stderr", largeArtifactNote(name, ref.size));
  }
  const result: StepResult = { kind: "task", ok: true, artifacts, next: binding.next ?? null };
  const next = binding.next;
  if (next?.foreach) result.foreachElements = await splitForeach(loaded, flow, next.foreach, request.maxNumSplits, pathspec);
  if (next?.condition) result.chosen = chooseCase(flow, next, pathspec);
  result.timing = { inputsMs: bodyStarted - started, bodyMs: bodyEnded - bodyStarted, saveMs: performance.now() - bodyEnded };
  return result;
}

/** An artifact this large is serialised whole in memory, where `current.files` would stream it. */
const LARGE_ARTIFACT_BYTES = 1024 ** 3;

function largeArtifactNote(name: string, size: number): string {
  return `note: artifact '${name}' is ${(size / 1024 ** 3).toFixed(1)} GB, serialised whole in memory on every write and read; ` +
    `for data this size, \`this.${name} = await current.files.put(path)\` streams it into the datastore instead (README: "Large data")\n`;
}

/**
 * A parameter field still holding its declaration has no value in this run; computing with
 * the declaration object would give a wrong result that looks like a success.
 */
function refuseUnresolvedParameters(initial: ReadonlyMap<string, unknown>, slots: ArtifactSlots, pathspec: string): void {
  for (const [field, value] of initial) {
    if (isParameterDescriptor(value) && !slots.defines(field)) {
      throw new ParameterError(`parameter --${value.name} (this.${field}) has no value in this run`, {
        where: pathspec,
        hint: "declare parameters as plain class fields (`x = Parameter(...)`), the same on every construction of the flow",
      });
    }
  }
}

/** Parameters are the run's inputs, the same in every task: a step changing one would make tasks disagree. */
function parameterAssigned(field: string, declaration: unknown, pathspec: string): ParameterError {
  const flag = isParameterDescriptor(declaration) ? ` (--${declaration.name})` : "";
  return new ParameterError(`this.${field} is a parameter${flag} and read-only in steps`, {
    where: pathspec,
    hint: `assign the changed value to another artifact, e.g. this.my${field[0]!.toUpperCase()}${field.slice(1)} = ...`,
  });
}

/**
 * Committed task records this worker read as inputs, newest last. A committed record never
 * changes, and the splits of a foreach all read the task that split: on S3 that is one GET per
 * worker instead of one per split.
 */
const committedParents = new Map<string, TaskRecord>();
const COMMITTED_PARENTS_KEPT = 64;

async function loadParents(loaded: LoadedFlow, parents: string[]): Promise<TaskRecord[]> {
  const unknown = parents.filter((spec) => !committedParents.has(spec));
  const read = unknown.length > 0 ? await loaded.metadata.getTasks(unknown) : [];
  const records = new Map(unknown.map((spec, i) => [spec, read[i]]));
  return parents.map((spec) => {
    const known = committedParents.get(spec);
    if (known) return known;
    const record = records.get(spec);
    if (!record?.artifacts) throw new ArtifactError(`input task ${spec} has no committed artifacts`, { where: spec });
    if (record.status === "succeeded") {
      committedParents.set(spec, record);
      if (committedParents.size > COMMITTED_PARENTS_KEPT) committedParents.delete(committedParents.keys().next().value!);
    }
    return record;
  });
}

/** The task's foreach frames as the flow sees them; each element is loaded on first read. */
function foreachContexts(loaded: LoadedFlow, stack: ForeachFrame[], pathspec: string): ForeachContext[] {
  return stack
    .filter((frame) => frame.kind === "foreach")
    .map((frame) => {
      const step = frame.split.slice(0, frame.split.indexOf("/"));
      let cached: { value: unknown } | undefined;
      return Object.freeze({
        step,
        index: frame.index,
        numSplits: frame.count,
        get value() {
          cached ??= { value: frame.input && loaded.content.loadSync(frame.input, `${pathspec} foreach element of ${step}`) };
          return cached.value;
        },
      });
    });
}

/** `file:line` of the first stack frame in the flow file: the user's line, not flowrun's. */
function sourceLine(stack: string | undefined, flowFile: string): string | null {
  for (const frame of stack?.split("\n") ?? []) {
    const at = frame.indexOf(`${flowFile}:`);
    const line = at === -1 ? undefined : /^(\d+)/.exec(frame.slice(at + flowFile.length + 1))?.[1];
    if (line) return `${flowFile}:${line}`;
  }
  return null;
}

function viewArtifacts(view: object): Record<string, ArtifactRef> {
  const artifacts = (view as Record<symbol, Record<string, ArtifactRef>>)[INPUT_ARTIFACTS];
  if (!artifacts) throw new TypeError("mergeArtifacts takes the join's `inputs` (or elements of it)");
  return artifacts;
}

/** `inputs` of a join: one read-only lazy view per incoming task, also named by step for branches. */
function joinInputs(loaded: LoadedFlow, parents: TaskRecord[]): readonly object[] {
  const views = parents.map((parent) => {
    const view: Record<string, unknown> = {};
    Object.defineProperty(view, INPUT_ARTIFACTS, { value: parent.artifacts, enumerable: false });
    const pathspec = `${parent.flow}/${parent.runId}/${parent.step}/${parent.taskId}`;
    for (const [name, ref] of Object.entries(parent.artifacts!)) {
      let cached: { value: unknown } | undefined;
      Object.defineProperty(view, name, {
        enumerable: true,
        get: () => (cached ??= { value: loaded.content.loadSync(ref, `${pathspec} artifact '${name}'`) }).value,
      });
    }
    return Object.freeze(view);
  });
  const steps = new Set(parents.map((p) => p.step));
  if (steps.size === parents.length) parents.forEach((p, i) => Object.defineProperty(views, p.step, { value: views[i], enumerable: false }));
  return Object.freeze(views);
}

function describe(next: NextCall | undefined | null): string {
  if (!next) return "no this.next() call";
  if (next.cases) return `this.next({ ${Object.entries(next.cases).map(([k, v]) => `${k}: this.${v}`).join(", ")} }, { condition: "${next.condition}" })`;
  const targets = next.targets.map((t) => `this.${t}`).join(", ");
  return next.foreach ? `this.next(${targets}, { foreach: "${next.foreach}" })` : `this.next(${targets})`;
}

function expectedCall(expected: ExpectedTransition): NextCall | undefined {
  switch (expected.kind) {
    case "end": return undefined;
    case "foreach": return { targets: expected.next, foreach: expected.foreach };
    case "switch": return { targets: [...new Set(Object.values(expected.switchCases ?? {}))], condition: expected.condition, cases: expected.switchCases };
    default: return { targets: expected.next };
  }
}

function checkTransition(actual: NextCall | undefined, expected: ExpectedTransition, pathspec: string): void {
  const wanted = expectedCall(expected);
  const same =
    describe(actual) === describe(wanted) ||
    (actual?.cases !== undefined && wanted?.cases !== undefined && actual.condition === wanted.condition &&
      JSON.stringify(Object.entries(actual.cases).sort()) === JSON.stringify(Object.entries(wanted.cases).sort()));
  if (!same) {
    throw new TransitionError(`the step called ${describe(actual)} but the flow's graph says ${describe(wanted)}`, {
      where: pathspec,
      hint: "a step must end with the same this.next(...) call on every run; use a switch to choose at run time",
    });
  }
}

function caughtTransition(expected: ExpectedTransition, pathspec: string): NextCall | undefined {
  if (expected.kind === "foreach" || expected.kind === "switch") {
    throw new TransitionError(`@catchError cannot continue after a failed ${expected.kind} step: there is no value to ${expected.kind === "foreach" ? "split over" : "switch on"}`, {
      where: pathspec,
      hint: "catch the error inside the step and set the artifact yourself",
    });
  }
  return expectedCall(expected);
}

async function splitForeach(loaded: LoadedFlow, flow: Record<string, unknown>, name: string, maxNumSplits: number, pathspec: string): Promise<ArtifactRef[]> {
  const items = flow[name];
  if (!Array.isArray(items)) {
    throw new TransitionError(`foreach over '${name}', which is ${items === undefined ? "not set" : `a ${typeof items}`}, not an array`, {
      where: pathspec,
      hint: `assign an array to this.${name} before this.next(..., { foreach: "${name}" })`,
    });
  }
  if (items.length > maxNumSplits) {
    throw new TransitionError(`foreach over '${name}' would make ${items.length} splits, more than --max-num-splits ${maxNumSplits}`, {
      where: pathspec,
      hint: `raise --max-num-splits, or split '${name}' into fewer, larger items`,
    });
  }
  return loaded.content.saveEach(name, items);
}

function chooseCase(flow: Record<string, unknown>, next: NextCall, pathspec: string): string {
  const value = flow[next.condition!];
  const target = typeof value === "string" ? next.cases![value] : undefined;
  if (!target) {
    throw new TransitionError(`switch on '${next.condition}' = ${JSON.stringify(value)} has no branch`, {
      where: pathspec,
      hint: `set this.${next.condition} to one of: ${Object.keys(next.cases!).map((c) => JSON.stringify(c)).join(", ")}`,
    });
  }
  return target;
}
