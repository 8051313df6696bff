/**
 * The package resolutions this thread made while loading lmdb and msgpackr, for task worker
 * threads to start with instead of making them again.
 *
 * Node's CommonJS loader keeps a thread's resolutions (`Module._pathCache`), but not those it
 * made through a package's "exports" (lmdb, msgpackr and most of their packages), and every
 * worker thread starts with an empty cache. Resolving them again cost a worker started alone
 * 12 ms of CPU (91 -> 79 ms to load lmdb), mostly V8 compiling the regular expressions Node
 * checks export targets with; less in a run, where workers start side by side.
 * runtime/worker/bootstrap.mjs adds what is recorded here to its thread's cache before it
 * loads lmdb.
 *
 * Both ends use loader internals (`Module._findPath`, `Module._pathCache`). Where Node has
 * them otherwise, nothing is recorded, or a worker's entries are never looked up: it then
 * resolves as it did before, and only the time is lost.
 */
import Module from "node:module";
import { isAbsolute } from "node:path";

type FindPath = (request: string, paths: readonly string[] | undefined, isMain: boolean) => string | false;

const loader = Module as unknown as { _findPath?: FindPath; _pathCache?: object };
const recorded: Record<string, string> = {};

/** Runs `load` (synchronous requires) and keeps each resolution it makes, keyed as Node keys `Module._pathCache`. */
export function recordingResolutions<T>(load: () => T): T {
  const findPath = loader._findPath;
  if (typeof findPath !== "function" || typeof loader._pathCache !== "object") return load();
  loader._findPath = function (request, paths, isMain) {
    const found = findPath.call(this, request, paths, isMain);
    const searched = isAbsolute(request) ? [""] : paths;
    if (found && searched?.length) recorded[`${request}\x00${searched.join("\x00")}`] = found;
    return found;
  };
  try {
    return load();
  } finally {
    loader._findPath = findPath;
  }
}

/** What `recordingResolutions` kept: `Module._pathCache` entries for a worker thread. */
export function recordedResolutions(): Readonly<Record<string, string>> {
  return recorded;
}
