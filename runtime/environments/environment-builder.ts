/**
 * Builds a step's dependency environment once and reuses it: the entry point the runtime
 * calls before the first task of a step with `@dependencies`. The flow is then compiled for
 * the step with the returned `dir` (runtime/compile/flow-compiler.ts): its bare imports
 * resolve from `<dir>/node_modules` first.
 *
 * Safety comes from the layout (see environment-cache.ts): a build happens in a temp
 * directory and becomes visible only by one rename, with its completion marker already
 * inside. The build lock (build-lock.ts) makes concurrent processes wait for one build
 * instead of repeating it; if two build anyway, the first rename wins and the other copy
 * is discarded.
 *
 * @example
 *   const env = await ensureEnvironment({ lodash: "^4" }, { label: "MyFlow/train" });
 *   // env.dir -> worker pool; env.lock -> recorded with the run, passed back on resume
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { config, ENV_VARS } from "../../src/core/config.js";
import { EnvironmentError, FlowrunError } from "../../src/core/errors.js";
import { acquireBuildLock } from "./build-lock.js";
import {
  MARKER,
  isAlive,
  listLeftovers,
  publish,
  readMarker,
  tempPrefix,
  type EnvironmentMarker,
} from "./environment-cache.js";
import { describePackages, environmentId, installSet, type PackageSet } from "./environment-spec.js";
import type { Installer } from "./installer.js";
import { npmInstaller } from "./npm-installer.js";

export interface EnsureEnvironmentOptions {
  /** @default `config.environmentCacheDir()` (src/core/config.ts) */
  cacheRoot?: string;
  /** Exact versions recorded by an earlier run (resume): installed instead of the ranges. */
  lock?: PackageSet;
  /** Progress lines: waiting for another process, the installer's own output. */
  onProgress?: (line: string) => void;
  /** Extra `npm install` arguments, e.g. `["--ignore-scripts"]`. */
  npmArgs?: string[];
  /** Names the step (`Flow/step`) in errors' `where`. */
  label?: string;
  /** @default the npm installer */
  installer?: Installer;
}

export interface Environment {
  id: string;
  /** The environment's folder; its node_modules is where the step's bare imports resolve. */
  dir: string;
  /** Every installed package, transitive included: name -> exact version. */
  lock: PackageSet;
  /** True when this call ran the install; false when the environment was already built. */
  built: boolean;
}

/** Builds of this process, by directory: a second step with the same set joins the first. */
const inFlight = new Map<string, Promise<Environment>>();

/**
 * The environment for `packages` (merged `@dependencies`), built on first use.
 * @throws EnvironmentError when the install fails or the cache cannot be written.
 */
export async function ensureEnvironment(
  packages: PackageSet,
  options: EnsureEnvironmentOptions = {},
): Promise<Environment> {
  const root = resolve(options.cacheRoot ?? config.environmentCacheDir());
  const dependencies = installSet(packages, options.lock);
  const id = environmentId({ dependencies });
  const dir = join(root, id);
  try {
    const existing = await readMarker(dir);
    if (existing) return { id, dir, lock: existing.lock, built: false };
    const pending = inFlight.get(dir);
    if (pending) return { ...(await pending), built: false };
    const build = buildOnce({ root, id, dir, packages, dependencies, options });
    inFlight.set(dir, build);
    try {
      return await build;
    } finally {
      inFlight.delete(dir);
    }
  } catch (error) {
    if (error instanceof FlowrunError) throw error;
    throw new EnvironmentError(`cannot build environment ${id} in ${root}: ${(error as Error).message}`, {
      where: options.label,
      hint: `check that the cache folder is writable, or set ${ENV_VARS.environmentCache.name}`,
      cause: error,
    });
  }
}

interface BuildRequest {
  root: string;
  id: string;
  dir: string;
  packages: PackageSet;
  dependencies: PackageSet;
  options: EnsureEnvironmentOptions;
}

async function buildOnce({ root, id, dir, packages, dependencies, options }: BuildRequest): Promise<Environment> {
  const progress = options.onProgress ?? (() => {});
  await mkdir(root, { recursive: true });
  const lock = await acquireBuildLock(join(root, `.${id}.building`), {
    isDone: async () => (await readMarker(dir)) !== undefined,
    onWait: (owner) => progress(`waiting for environment ${id}, being built by pid ${owner?.pid ?? "?"}`),
  });
  if (!lock) return finishedElsewhere(id, dir);
  let tempDir: string | undefined;
  try {
    // The holder we waited for may have finished just before we took the lock.
    if (await readMarker(dir)) return await finishedElsewhere(id, dir);
    await sweepAbandoned(root, id);
    tempDir = await mkdtemp(join(root, `${tempPrefix(id)}${process.pid}-`));
    progress(`building environment ${id}: ${describePackages(dependencies)}`);
    const installer = options.installer ?? npmInstaller;
    const installed = await installer.install(tempDir, dependencies, {
      onProgress: options.onProgress,
      extraArgs: options.npmArgs,
      label: options.label,
    });
    const marker: EnvironmentMarker = {
      id,
      packages,
      lock: installed,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      createdAt: new Date().toISOString(),
    };
    await writeFile(join(tempDir, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    if (!(await publish(tempDir, dir))) return await finishedElsewhere(id, dir);
    tempDir = undefined;
    return { id, dir, lock: installed, built: true };
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    await lock.release();
  }
}

async function finishedElsewhere(id: string, dir: string): Promise<Environment> {
  const marker = await readMarker(dir);
  if (!marker) throw new EnvironmentError(`environment ${id} vanished while being published (removed by env clean?)`);
  return { id, dir, lock: marker.lock, built: false };
}

/**
 * Temp directories of earlier builds of this environment whose process is gone (killed
 * mid-install). Called with the build lock held, so no live local builder owns them.
 */
async function sweepAbandoned(root: string, id: string): Promise<void> {
  for (const leftover of await listLeftovers(root)) {
    if (leftover.kind !== "temp" || !leftover.path.includes(tempPrefix(id)) || leftover.pid === undefined) continue;
    if (leftover.pid === process.pid || !isAlive(leftover.pid)) await rm(leftover.path, { recursive: true, force: true });
  }
}
