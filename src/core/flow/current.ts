/**
 * `current`: what the running task knows about itself. A task runs inside its own state
 * (AsyncLocalStorage, so tasks sharing a worker thread each see theirs); outside any task, the
 * state set globally (the parameters' defaults) answers.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { TaskCard } from "./cards.js";
import { taskFiles, type TaskFiles } from "./files.js";
import { TASK_STATE } from "./registry.js";

export interface CurrentState {
  flowName: string;
  runId: string;
  stepName: string;
  taskId: string;
  retryCount: number;
  originRunId: string | null;
  isProduction: boolean;
  projectName: string | null;
  /** `<project>.<branch>.<FlowName>`, as Metaflow's project_flow_name; null without @project. */
  projectFlowName: string | null;
  branchName: string | null;
  namespace: string;
  username: string;
  /** Class fields of the run's parameters. */
  parameterNames: string[];
  /** The user's `--tag` tags. */
  tags: string[];
  /** `user:`, `project:`, `project_branch:` and `runtime:` tags, which only flowrun sets. */
  systemTags: string[];
  /** The task's card, set by the worker for the task it runs (never part of a message). */
  card?: TaskCard;
}

/** Under a global symbol, like the rest of the task state: every copy of flowrun a flow loads shares it. */
const STORAGE = Symbol.for("flowrun.taskStateStorage");

function storage(): AsyncLocalStorage<CurrentState> {
  const global = globalThis as Record<symbol, unknown>;
  return (global[STORAGE] ??= new AsyncLocalStorage<CurrentState>()) as AsyncLocalStorage<CurrentState>;
}

function state(): CurrentState {
  const value = storage().getStore() ?? ((globalThis as Record<symbol, unknown>)[TASK_STATE] as CurrentState | undefined);
  if (!value) throw new Error("`current` is only available while a flowrun task runs");
  return value;
}

export function setCurrentState(value: CurrentState | undefined): void {
  (globalThis as Record<symbol, unknown>)[TASK_STATE] = value;
}

/** Runs `fn` (and everything it schedules) as the task `value` describes. */
export function runAsTask<T>(value: CurrentState, fn: () => T): T {
  return storage().run(value, fn);
}

export const current = {
  get flowName() { return state().flowName; },
  get runId() { return state().runId; },
  get stepName() { return state().stepName; },
  get taskId() { return state().taskId; },
  /** `Flow/runId/step/taskId` */
  get pathspec() {
    const s = state();
    return `${s.flowName}/${s.runId}/${s.stepName}/${s.taskId}`;
  },
  get retryCount() { return state().retryCount; },
  get originRunId() { return state().originRunId; },
  get isProduction() { return state().isProduction; },
  get projectName() { return state().projectName; },
  get projectFlowName() { return state().projectFlowName; },
  get branchName() { return state().branchName; },
  get namespace() { return state().namespace; },
  get username() { return state().username; },
  get parameterNames(): readonly string[] { return state().parameterNames; },
  get tags(): readonly string[] { return state().tags; },
  get systemTags(): readonly string[] { return state().systemTags; },
  /** Files too big for an artifact: `const ref = await current.files.put(path)`, then `await current.files.path(ref)` downstream. */
  get files(): TaskFiles {
    state();
    return taskFiles();
  },
  /** The task's card: `current.card.append(new Markdown("# Results"))` (see `@card`). */
  get card(): TaskCard {
    const card = state().card;
    if (!card) throw new Error("`current.card` is only available inside a step");
    return card;
  },
};
