/**
 * The client's namespace: which runs `Flow.runs()` and friends can see. `user:<name>` by
 * default (your own runs), `project:<name>` for a project's, `null` for everything. Kept on
 * a global symbol so every copy of flowrun in a process agrees.
 */
import { currentUser } from "../../runtime/run-context.js";

const KEY = Symbol.for("flowrun.namespace");
type Holder = { [KEY]?: string | null };

/** Sets the namespace for this process (`"user:alice"`, `"project:kuebiko"`, or null for all). */
export function namespace(ns: string | null): string | null {
  (globalThis as Holder)[KEY] = ns;
  return ns;
}

export function getNamespace(): string | null {
  const holder = globalThis as Holder;
  return KEY in holder ? holder[KEY]! : `user:${currentUser()}`;
}

/** Goes back to the default namespace, the current user's, and returns it. */
export function defaultNamespace(): string {
  delete (globalThis as Holder)[KEY];
  return getNamespace()!;
}

export function inNamespace(tags: readonly string[], ns = getNamespace()): boolean {
  return ns === null || tags.includes(ns);
}
