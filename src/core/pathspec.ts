/** Pathspecs (`Flow/runId[/step[/taskId]]`) as users type them, each part checked before any datastore sees it. */
import { UsageError } from "./errors.js";

export interface Pathspec {
  flow: string;
  runId?: string;
  step?: string;
  taskId?: string;
}

const PATHSPEC_HINT = "a pathspec looks like Flow/runId[/step[/taskId]]";

/**
 * What each part of a pathspec may be. Checked before the datastore sees them: a datastore
 * key holds at most 1978 bytes, and a malformed part can only ever be "not found".
 */
const PARTS = {
  "flow name": { pattern: /^[A-Za-z_$][\w$]{0,199}$/, is: "a flow class name" },
  "run ID": { pattern: /^\d{1,16}-[0-9a-f]{6}$/, is: "a run ID (like 1712345678901-a1b2c3)" },
  "step name": { pattern: /^[A-Za-z_$][\w$]{0,199}$/, is: "a step name" },
  "task ID": { pattern: /^\d{1,12}$/, is: "a task ID (a number)" },
} as const;

/** `text` if it can be the pathspec part `kind`; a UsageError otherwise. */
export function checkPathspecPart(kind: keyof typeof PARTS, text: string): string {
  const { pattern, is } = PARTS[kind];
  if (pattern.test(text)) return text;
  const shown = text.length > 40 ? `"${text.slice(0, 20)}…" (${text.length} characters)` : JSON.stringify(text);
  throw new UsageError(`${kind} ${shown} is not ${is}`, { hint: PATHSPEC_HINT });
}

export function parsePathspec(text: string | undefined, command: string): Pathspec {
  if (!text) throw new UsageError(`flowrun ${command} needs a pathspec`, { hint: PATHSPEC_HINT });
  const [flow, runId, step, taskId, ...rest] = text.split("/");
  if (!flow || rest.length > 0 || [runId, step, taskId].some((p) => p === "")) {
    throw new UsageError(`"${text.length > 40 ? `${text.slice(0, 40)}…` : text}" is not a pathspec`, { hint: PATHSPEC_HINT });
  }
  return {
    flow: checkPathspecPart("flow name", flow),
    runId: runId === undefined ? undefined : checkPathspecPart("run ID", runId),
    step: step === undefined ? undefined : checkPathspecPart("step name", step),
    taskId: taskId === undefined ? undefined : checkPathspecPart("task ID", taskId),
  };
}
