/**
 * The on-disk cache of built environments. Layout under the cache root:
 *
 *   <id>/                        a complete environment: package.json, node_modules,
 *   <id>/flowrun-env.json        package-lock.json and this marker, written last
 *   .tmp-<id>-<pid>-<rand>/      a build in progress (or abandoned by a killed process)
 *   .<id>.building               the build lock (see build-lock.ts)
 *   .trash-<id>-<rand>/          an environment being deleted
 *
 * A directory becomes `<id>` only by one rename of a finished temp directory that already
 * holds its marker, so whatever a crash leaves behind is either complete or has a name that
 * nothing reads as an environment. A `<id>` directory without a marker (copied by hand, or
 * from a filesystem whose rename is not atomic) is treated as absent and replaced.
 */
import { randomBytes } from "node:crypto";
import { lstat, readFile, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { PackageSet } from "./environment-spec.js";

export const MARKER = "flowrun-env.json";

/** The completion marker: what was asked for, what was installed, for whom. */
export interface EnvironmentMarker {
  id: string;
  /** The packages requested (merged `@dependencies`), as declared. */
  packages: PackageSet;
  /** Every installed package, transitive included: name -> exact version or source. */
  lock: PackageSet;
  node: string;
  platform: string;
  /** ISO time the build finished. */
  createdAt: string;
}

export const tempPrefix = (id: string) => `.tmp-${id}-`;

/** The marker of a complete environment, or undefined when `dir` is absent or incomplete. */
export async function readMarker(dir: string): Promise<EnvironmentMarker | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MARKER), "utf8")) as EnvironmentMarker;
  } catch (error) {
    // A half-written marker cannot exist (it is written before the rename that publishes
    // the directory), so unreadable JSON means someone edited it: treat as incomplete.
    if (isCode(error, "ENOENT", "ENOTDIR") || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * Moves a finished temp directory into place as `dir`. Returns false when another process
 * published the same environment first: rename(2) onto a non-empty directory fails, so
 * exactly one builder wins and the loser's copy (identical by construction) is discarded.
 */
export async function publish(tempDir: string, dir: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(tempDir, dir);
      return true;
    } catch (error) {
      if (!isCode(error, "ENOTEMPTY", "EEXIST") || attempt > 0) throw error;
      if (await readMarker(dir)) {
        await rm(tempDir, { recursive: true, force: true });
        return false;
      }
      await discard(dir); // an incomplete directory squats the name: never used, replace it
    }
  }
}

/** Removes a directory so that it disappears at once (rename) before the slow delete. */
export async function discard(dir: string): Promise<void> {
  const trash = join(dir, "..", `.trash-${dir.split(/[\\/]/).pop()}-${randomBytes(4).toString("hex")}`);
  try {
    await rename(dir, trash);
  } catch (error) {
    if (isCode(error, "ENOENT")) return;
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
}

export interface CachedEnvironment extends EnvironmentMarker {
  dir: string;
}

/** Complete environments under `root`, oldest first. */
export async function listEnvironments(root: string): Promise<CachedEnvironment[]> {
  const found: CachedEnvironment[] = [];
  for (const name of await entries(root)) {
    if (name.startsWith(".")) continue;
    const marker = await readMarker(join(root, name));
    if (marker) found.push({ ...marker, dir: join(root, name) });
  }
  return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Leftovers of interrupted builds or deletions: safe to remove when nobody is building. */
export interface Leftover {
  path: string;
  kind: "temp" | "lock" | "trash" | "incomplete";
  /** The process that made it, when its name records one. */
  pid?: number;
}

export async function listLeftovers(root: string): Promise<Leftover[]> {
  const found: Leftover[] = [];
  for (const name of await entries(root)) {
    const path = join(root, name);
    const temp = /^\.tmp-[0-9a-f]+-(\d+)-/.exec(name);
    if (temp) found.push({ path, kind: "temp", pid: Number(temp[1]) });
    else if (/^\.[0-9a-f]+\.building$/.test(name)) found.push({ path, kind: "lock" });
    else if (name.startsWith(".trash-")) found.push({ path, kind: "trash" });
    else if (!name.startsWith(".") && !(await readMarker(path))) found.push({ path, kind: "incomplete" });
  }
  return found;
}

/** Bytes on disk under `path` (files and symlinks themselves, not their targets). */
export async function diskUsage(path: string): Promise<number> {
  const stat = await lstat(path);
  if (!stat.isDirectory()) return stat.size;
  let total = stat.size;
  for (const name of await readdir(path)) total += await diskUsage(join(path, name));
  return total;
}

/** Whether a process with this pid exists on this machine (EPERM: exists, not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, "EPERM");
  }
}

async function entries(root: string): Promise<string[]> {
  try {
    return await readdir(root);
  } catch (error) {
    if (isCode(error, "ENOENT")) return [];
    throw error;
  }
}

export function isCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as { code?: unknown } | null)?.code as string);
}
