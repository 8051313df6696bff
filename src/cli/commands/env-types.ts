/**
 * `flowrun env types <flow.ts> [--out FILE]`: lets tsc and the editor see the packages
 * steps get from `@dependencies`. They live in per-step environments, not in the project's
 * node_modules, so without this a step's `await import("lodash")` is "cannot find module".
 *
 * Builds (or finds) each step's environment exactly as `flowrun run` does, then writes a
 * tsconfig file whose `compilerOptions.paths` maps each package to its folder there. The
 * project's tsconfig.json extends it (`flowrun init` sets that up). One name maps to one
 * folder for the whole project: when two steps ask for different versions, the first
 * step's types are used and the others are named.
 *
 * The decorators are read from the source, as `check` reads the graph: no flow code runs.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "../../core/graph/typescript-api.js";
import { objectProperties, propertyName, stringLiteralValue, unwrap } from "../../core/graph/source-util.js";
import { UsageError } from "../../core/errors.js";
import { loadFlowGraphCached } from "../../core/graph/graph-cache.js";
import type { DecoratorInfo } from "../../core/graph/types.js";
import { projectRoot } from "../../../runtime/metadata/flow-source.js";
import { mergeDependencies, type PackageSet } from "../../../runtime/environments/environment-spec.js";
import { ENV_TSCONFIG, shown } from "./init.js";

export interface TypesIO {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = "usage: flowrun env types <flow.ts> [--out FILE]";

export async function envTypes(args: string[], io: TypesIO): Promise<number> {
  const { flowFile, out: outOption } = parseArgs(args);
  const graph = await loadFlowGraphCached(flowFile);
  const flowPackages = packagesOf(graph.decorators, `class ${graph.className}`, flowFile);
  const steps = [...graph.steps.values()]
    .map((step) => ({ step: step.name, packages: mergeDependencies(flowPackages, packagesOf(step.decorators, `step ${step.name}`, flowFile)) }))
    .filter(({ packages }) => Object.keys(packages).length > 0);

  const { ensureEnvironment } = await import("../../../runtime/environments/environment-builder.js");
  const paths: Record<string, string[]> = {};
  const from = new Map<string, { step: string; version: string }>();
  const notes: string[] = [];
  for (const { step, packages } of steps) {
    const label = `${graph.className}/${step}`;
    const env = await ensureEnvironment(packages, { label, onProgress: (line) => io.err(`[${label}] environment: ${line}`) });
    for (const name of Object.keys(packages).sort()) {
      const version = env.lock[name] ?? packages[name]!;
      const first = from.get(name);
      if (first) {
        if (first.version !== version) notes.push(`${name}: step ${step} has ${version}; the types are step ${first.step}'s (${first.version})`);
        continue;
      }
      from.set(name, { step, version });
      const modules = join(env.dir, "node_modules");
      paths[name] = typeTargets(modules, name);
      paths[`${name}/*`] = [join(modules, name, "*")];
    }
  }

  const file = outOption ? resolve(outOption) : join(projectRoot(flowFile), ENV_TSCONFIG);
  const header = `Written by \`flowrun env types\` for ${graph.className}: where the steps' @dependencies packages are. Run it again after changing them.`;
  writeFileSync(file, `${JSON.stringify({ "//": header, compilerOptions: { paths } }, null, 2)}\n`);
  io.out(`wrote ${shown(file)}${from.size === 0 ? ` (${graph.className} has no @dependencies: no paths)` : ""}`);
  for (const [name, { step, version }] of from) io.out(`  ${name}@${version}  (step ${step})`);
  for (const note of notes) io.out(`  note: ${note}`);
  const tsconfig = join(dirname(file), "tsconfig.json");
  if (!existsSync(tsconfig) || !readFileSync(tsconfig, "utf8").includes(ENV_TSCONFIG.replace("tsconfig.", ""))) {
    io.out(`  add "extends": "./${ENV_TSCONFIG}" to ${shown(tsconfig)} (its own "paths", if any, would replace these)`);
  }
  return 0;
}

function parseArgs(args: string[]): { flowFile: string; out?: string } {
  const positional: string[] = [];
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--out") {
      out = args[++i];
      if (!out) throw new UsageError("--out needs a file", { hint: USAGE });
    } else if (arg.startsWith("--out=")) out = arg.slice("--out=".length);
    else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`, { hint: USAGE });
    else positional.push(arg);
  }
  if (positional.length !== 1) throw new UsageError("env types takes one flow file", { hint: USAGE });
  return { flowFile: positional[0]!, out };
}

/**
 * Where tsc finds a package's types: its folder (package.json `types`, index.d.ts), the
 * `types` of its `exports["."]` (which tsc does not read through `paths`), and @types/NAME.
 */
function typeTargets(modules: string, name: string): string[] {
  const dir = join(modules, name);
  const targets = [dir];
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { types?: string; typings?: string; exports?: unknown };
    const fromExports = !manifest.types && !manifest.typings ? exportedTypes(manifest.exports) : undefined;
    if (fromExports) targets.unshift(join(dir, fromExports));
  } catch {
    // no readable package.json: tsc tries the folder as it is
  }
  const atTypes = join(modules, "@types", name.startsWith("@") ? name.slice(1).replace("/", "__") : name);
  if (existsSync(atTypes)) targets.push(atTypes);
  return targets;
}

/** The `types` condition of `exports["."]`, however nested (`{ import: { types } }`). */
function exportedTypes(exports: unknown): string | undefined {
  const root = typeof exports === "object" && exports !== null && "." in exports ? (exports as Record<string, unknown>)["."] : exports;
  const search = (value: unknown): string | undefined => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    if (typeof record.types === "string") return record.types;
    for (const nested of Object.values(record)) {
      const found = search(nested);
      if (found) return found;
    }
    return undefined;
  };
  return search(root);
}

/** The `packages` of an `@dependencies({ packages: { name: "range" } })` among `decorators`. */
function packagesOf(decorators: DecoratorInfo[], owner: string, flowFile: string): PackageSet | undefined {
  const decorator = decorators.find((d) => d.name === "dependencies");
  if (!decorator) return undefined;
  const packages = literalPackages(decorator.args);
  if (!packages) {
    throw new UsageError(`@dependencies of ${owner} is not written as literals: ${decorator.args}`, {
      where: `${flowFile}:${decorator.loc.line}`,
      hint: 'env types reads the flow without running it: write @dependencies({ packages: { name: "^1.2.3" } })',
    });
  }
  return packages;
}

function literalPackages(args: string): PackageSet | undefined {
  const source = ts.createSourceFile("decorator.ts", `(${args})`, ts.ScriptTarget.Latest);
  const statement = source.statements[0];
  if (!statement || !ts.isExpressionStatement(statement)) return undefined;
  const options = unwrap(statement.expression);
  const packages = ts.isObjectLiteralExpression(options) ? objectProperties(options).packages : undefined;
  if (!packages || !ts.isObjectLiteralExpression(packages)) return undefined;
  const out: PackageSet = {};
  for (const property of packages.properties) {
    if (!ts.isPropertyAssignment(property)) return undefined;
    const name = propertyName(property.name);
    const version = stringLiteralValue(property.initializer);
    if (name === undefined || version === undefined) return undefined;
    out[name] = version;
  }
  return out;
}
