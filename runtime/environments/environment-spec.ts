/**
 * What a dependency environment is: the npm packages a step asked for (class-level
 * `@dependencies` merged with the step's own), and the id that names the built environment
 * in the cache. The id is a pure function of its inputs so every process, run and machine
 * that asks for the same set finds the same directory.
 */
import { createHash } from "node:crypto";

/** Package name -> version range or source (`^1.2.0`, `2.0.0`, `file:/x.tgz`, `npm:a@1`). */
export type PackageSet = Record<string, string>;

/**
 * The dependencies a step runs with: the class-level set, with the step's own entry
 * winning when both name the same package (the step is the more specific declaration).
 */
export function mergeDependencies(classLevel?: PackageSet, stepLevel?: PackageSet): PackageSet {
  return { ...(classLevel ?? {}), ...(stepLevel ?? {}) };
}

/**
 * The dependencies actually written into the environment's package.json. Without a lock
 * that is the requested set. With a lock (resume), every locked package is pinned to its
 * exact version as a direct dependency, so the transitive ones are installed at the
 * recorded versions too; a package requested now but absent from the lock keeps its range.
 *
 * Pinning transitive packages as direct dependencies (rather than npm `overrides`) never
 * forces a version onto a dependent whose range excludes it: if the original tree held two
 * versions of one name, the lock records the hoisted one and npm resolves the other again.
 */
export function installSet(requested: PackageSet, lock?: PackageSet): PackageSet {
  if (!lock) return sortKeys(requested);
  const pinned: PackageSet = { ...lock };
  for (const [name, range] of Object.entries(requested)) pinned[name] ??= range;
  return sortKeys(pinned);
}

export interface IdInputs {
  /** The dependencies written into package.json (see `installSet`). */
  dependencies: PackageSet;
  /** @default the running Node major: native addons and engines differ between majors. */
  nodeMajor?: number;
  /** @default `${process.platform}-${process.arch}`: prebuilt binaries are per platform. */
  platform?: string;
}

/** 20 hex digits of SHA-256: short enough for paths, 80 bits against collisions. */
export function environmentId(inputs: IdInputs): string {
  const canonical = JSON.stringify({
    dependencies: sortKeys(inputs.dependencies),
    node: inputs.nodeMajor ?? Number(process.versions.node.split(".")[0]),
    platform: inputs.platform ?? `${process.platform}-${process.arch}`,
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 20);
}

/** `a@^1 b@2` for messages and listings. */
export function describePackages(packages: PackageSet): string {
  return Object.entries(sortKeys(packages))
    .map(([name, range]) => `${name}@${range}`)
    .join(" ");
}

function sortKeys(record: PackageSet): PackageSet {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
