/**
 * Which datastore a command or the client uses: flags, then (inside a task) the run's own,
 * then the environment (`config.datastore()`, `config.datastoreRoot()`), then the nearest
 * `.flowrun/` walking up from the working directory (as git finds `.git`), else `.flowrun/`
 * in the working directory.
 */
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { config, datastoreKind, ENV_VARS } from "./config.js";
import { UsageError } from "./errors.js";

/** How to reach a datastore; serialisable so worker threads can open the same one. */
export interface DatastoreConfig {
  kind: "local" | "s3";
  /** Local: a directory. S3: `s3://bucket/prefix`. */
  root: string;
}

const TASK_DATASTORE = Symbol.for("flowrun.taskDatastore");
type Holder = { [TASK_DATASTORE]?: DatastoreConfig };

/**
 * Inside a task, the run's datastore is the default: a step calling `new Flow("Other")` reads
 * where its own run lives, whatever the environment or the working directory hold. Set by the
 * worker before it imports the flow; kept on a global symbol so every copy of flowrun loaded
 * in that thread agrees.
 */
export function setTaskDatastore(config: DatastoreConfig): void {
  (globalThis as Holder)[TASK_DATASTORE] = config;
}

export function datastoreConfig(flags: { datastore?: string; root?: string } = {}): DatastoreConfig {
  const task = (globalThis as Holder)[TASK_DATASTORE];
  if (task && flags.datastore === undefined && flags.root === undefined) return task;
  // The variables are read only when no flag decides: a flag wins even over an empty variable.
  const kind = flags.datastore === undefined ? config.datastore() : datastoreKind(flags.datastore);
  // Set but empty is a mistake (a script's unset variable), not "the current directory".
  if (flags.root === "") throw new UsageError("--datastore-root is empty", { hint: "pass a directory or s3://bucket/prefix, or leave the option out" });
  const root = flags.root ?? config.datastoreRoot();
  if (kind === "s3") {
    if (!root?.startsWith("s3://")) {
      throw new UsageError(`the S3 datastore needs a root like s3://bucket/prefix${root ? `, got "${root}"` : ""}`, {
        hint: `pass --datastore-root s3://bucket/prefix or set ${ENV_VARS.datastoreRoot.name}`,
      });
    }
    return { kind, root };
  }
  if (root?.startsWith("s3://")) {
    throw new UsageError(`--datastore-root ${root} is an S3 location but the datastore is local`, { hint: "add --datastore s3" });
  }
  return { kind, root: root === undefined ? localDatastoreRoot() : resolve(root) };
}

/** The nearest `.flowrun/` directory at or above `from`; `from/.flowrun` (to be created) if there is none. */
export function localDatastoreRoot(from = process.cwd()): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, ".flowrun");
    if (statSync(candidate, { throwIfNoEntry: false })?.isDirectory()) return candidate;
    if (dirname(dir) === dir) return join(resolve(from), ".flowrun");
  }
}
