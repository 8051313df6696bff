/**
 * Steps never see each other's dependency environments, so a step importing a package that
 * only another step's `@dependencies` provides fails with Node's bare "Cannot find package
 * 'x'". Someone used to one shared node_modules reads that as "the install failed"; the hint
 * says which decorator to add, copying the other step's version range.
 */
import type { SerializedError } from "../../src/core/errors.js";
import type { PackageSet } from "./environment-spec.js";

/**
 * `error` with a hint when it is a package the failing `step` lacks and another step
 * declares; otherwise `error` unchanged. `declared` gives each step's whole set (class-level
 * entries included), in the flow's step order.
 */
export function withMissingPackageHint(error: SerializedError, step: string, declared: ReadonlyMap<string, PackageSet>): SerializedError {
  if (error.code !== "ERR_MODULE_NOT_FOUND" && !/Cannot find (package|module) '/.test(error.message)) return error;
  const name = missingPackage(error.message);
  if (!name || declared.get(step)?.[name] !== undefined) return error;
  const other = [...declared].find(([candidate, packages]) => candidate !== step && packages[name] !== undefined);
  if (!other) return error;
  const [owner, packages] = other;
  return {
    ...error,
    hint: `add @dependencies({ packages: { ${JSON.stringify(name)}: ${JSON.stringify(packages[name])} } }) to step ${step} (step ${owner} declares it)`,
  };
}

/** The package of a bare specifier in Node's message (`lodash` of 'lodash/fp', `@a/b` of '@a/b/c'); none for paths and URLs. */
function missingPackage(message: string): string | undefined {
  const specifier = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (!specifier || /^[./]|^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}
