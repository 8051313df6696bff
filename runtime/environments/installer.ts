/**
 * How an environment's packages get installed: one small interface, one file per tool
 * (npm today; pnpm or a cached-tarball installer could follow). The builder knows only
 * this interface; it owns where the directory lives and when it counts as complete.
 */
import type { PackageSet } from "./environment-spec.js";

export interface InstallOptions {
  /** Each line of the tool's output, for progress display. */
  onProgress?: (line: string) => void;
  /** Extra arguments passed to the tool as given. */
  extraArgs?: string[];
  /** Names the step in errors (`EnvironmentError.where`). */
  label?: string;
}

export interface Installer {
  /** `npm`: shown in messages. */
  readonly name: string;
  /**
   * Installs `dependencies` into `dir` (an empty directory) and returns every installed
   * package, transitive included, as name -> exact version (or exact source for packages
   * that do not come from a registry). Throws `EnvironmentError` on failure.
   */
  install(dir: string, dependencies: PackageSet, options: InstallOptions): Promise<PackageSet>;
}
