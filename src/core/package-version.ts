/**
 * flowrun's own package.json. It is found by walking up from this module: it sits two
 * directories up from src/core/ in a checkout but three from dist/src/core/ once compiled.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NotFoundError } from "./errors.js";

export interface FlowrunPackage {
  version: string;
  /** The directory holding flowrun's package.json: the checkout, or the installed package. */
  root: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

export function flowrunPackage(): FlowrunPackage {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (statSync(file, { throwIfNoEntry: false })?.isFile()) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as Partial<FlowrunPackage> & { name?: string };
      if (pkg.name === "flowrun" && pkg.version) {
        return { version: pkg.version, root: dir, dependencies: pkg.dependencies ?? {}, devDependencies: pkg.devDependencies ?? {} };
      }
    }
    if (dirname(dir) === dir) {
      throw new NotFoundError("flowrun's package.json is not in any directory above its own files", { where: fileURLToPath(import.meta.url), hint: "reinstall flowrun" });
    }
  }
}

export function packageVersion(): string {
  return flowrunPackage().version;
}
