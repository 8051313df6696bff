/**
 * The user's own lines in an error's stack. A task's error travels with its whole stack
 * (flowrun's frames, the worker's, Node's); what the user wants to see is where their code
 * threw, the way Metaflow points at the line of the flow. Source maps take stack frames back
 * to the `.ts` source, so the lines here are the ones in the user's editor; a frame left in a
 * compiled module (`.../flowrun/compiled/...`) is in code the compiler added, not the user's.
 */
import { fileURLToPath } from "node:url";
import type { SerializedError } from "./errors.js";

// This file is <root>/src/core (or <root>/dist/src/core once built): flowrun's own code is under
// <root>/src, <root>/runtime and <root>/dist.
const ROOT = fileURLToPath(new URL(import.meta.url.includes("/dist/src/") ? "../../../" : "../../", import.meta.url));
const FLOWRUN_DIRS = ["src/", "runtime/", "dist/"].map((dir) => `${ROOT}${dir}`);

/** How many of the user's frames are shown: the throw and the calls that led to it. */
const SHOWN_FRAMES = 5;

/** Stack frames from flowrun itself, its dependencies or Node internals say nothing about the user's bug. */
export function userFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  return stack
    .split("\n")
    // A frame without a file (`at async Promise.all (index 1)`) points at nothing to open.
    .filter((line) => /^\s+at .*[/\\]/.test(line))
    .filter((line) => !/node:internal|node_modules\/|\/flowrun\/compiled\//.test(line) && !FLOWRUN_DIRS.some((dir) => line.includes(dir)))
    .slice(0, SHOWN_FRAMES);
}

/** `file:line:column` of a stack frame (`at f (/a/b.ts:3:7)`, `at /a/b.ts:3:7`, `at file:///a/b.ts:3:7`). */
export function frameLocation(frame: string): { file: string; line: number; column: number } | undefined {
  const match = /(?:\(|at )((?:file:\/\/)?[^\s()][^()]*?):(\d+):(\d+)\)?\s*$/.exec(frame);
  if (!match) return undefined;
  const file = match[1]!.startsWith("file://") ? fileURLToPath(match[1]!) : match[1]!;
  return { file, line: Number(match[2]), column: Number(match[3]) };
}

/** `file:line` of the innermost of the user's frames: the line their code threw from. */
export function userSource(stack: string | undefined): string | undefined {
  const at = userFrames(stack).map(frameLocation).find((loc) => loc !== undefined);
  return at && `${at.file}:${at.line}`;
}

/**
 * An error as a task's log and `flowrun dump` show it: `Type: message`, the user's frames,
 * and the hint when flowrun gave one.
 */
export function describeFailure(error: SerializedError): string[] {
  const head = error.name === "Error" && error.message.startsWith("non-Error value thrown") ? error.message : `${error.name}: ${error.message}`;
  return [head, ...userFrames(error.stack).map((frame) => `    ${frame.trim()}`), ...(error.hint ? [`  hint: ${error.hint}`] : [])];
}
