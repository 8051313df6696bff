/**
 * What a flow file needs from flowrun: the flow API and the errors, without the client
 * (`Flow`, `Run`, `Runner`, namespaces). `src/index.ts` re-exports all of it. A compiled flow
 * whose `flowrun` imports name only these loads this module instead of the whole package,
 * ~15 ms less in every worker thread; the modules behind both are the same, so `current`
 * and the decorators are one and the same either way.
 */
import "./core/flow/registry.js";

export { FlowSpec, type Inputs } from "./core/flow/flowspec.js";
export {
  step, retry, catchError, timeout, resources, environment, isolate, dependencies, project, remote, card, type CaughtError,
} from "./core/flow/decorators.js";
export { Parameter, IncludeFile, JSONType } from "./core/flow/parameters.js";
export { current } from "./core/flow/current.js";
export { Markdown, Table, Image, VegaLite, ProgressBar, type CardComponent, type CardComponentData, type TaskCard } from "./core/flow/cards.js";
export type { FileRef, FileSource, PutFileOptions, TaskFiles } from "./core/flow/files.js";
export {
  FlowrunError, UsageError, FlowDefinitionError, ParameterError, ArtifactError, TransitionError,
  NotFoundError, DatastoreError, DatastoreWriteError, EnvironmentError, RemoteQueueError, TaskFailedError, TagError,
} from "./core/errors.js";
