/**
 * Which flow file made a run. Two files may declare the same flow class, so `resume FILE`
 * must find the runs made from FILE, not just runs of the class. A run records its file
 * relative to the project root, so that the same checkout in another directory (or on a
 * teammate's machine sharing an S3 datastore) still names the same file.
 *
 * The project root is the nearest directory at or above the flow file that holds a
 * `package.json`; a flow outside any package is named relative to the working directory.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { RunRecord } from "./records.js";

export interface FlowSource {
  absolute: string;
  /** Relative to the project root, `/`-separated. */
  file: string;
  /** SHA-256 of the file's source. */
  hash: string;
}

export function projectRoot(flowFile: string): string {
  for (let dir = dirname(resolve(flowFile)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

export function flowSource(flowFile: string): FlowSource {
  const absolute = resolve(flowFile);
  return {
    absolute,
    file: relative(projectRoot(absolute), absolute).split(sep).join("/"),
    hash: createHash("sha256").update(readFileSync(absolute)).digest("hex"),
  };
}

/** Runs recorded before flow files were project-relative hold an absolute path. */
export function madeFrom(run: Pick<RunRecord, "flowFile">, source: FlowSource): boolean {
  return isAbsolute(run.flowFile) ? run.flowFile === source.absolute : run.flowFile === source.file;
}
