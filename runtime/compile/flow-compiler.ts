/**
 * Compiles a flow file and the local TypeScript modules it imports to plain ES modules, once
 * per content, so task workers import JavaScript with no TypeScript loader registered (tsx's
 * module hooks cost every worker a hooks thread and 0.4-0.6 s of CPU).
 *
 * Each local module compiles to a file of its own: module identity, module-level state and
 * `import.meta` stay per module, as they are under a loader. Every import is resolved here,
 * at compile time, and the compiled file imports it by absolute URL:
 * - `flowrun`: the runtime that runs the flow, whatever copy the flow's folder holds, so
 *   `current`, `FlowSpec` and the decorators the flow sees are the ones the worker drives;
 * - a local `.ts`/`.tsx`/`.mts`/`.cts` file, or JavaScript written as an ES module: its
 *   compiled file (an ES module whatever the project's package.json says, as under tsx);
 * - a bare package: the file Node would load, looked up first in the step's dependency
 *   environment when it has one (each environment gets its own compiled copy);
 * - a package that resolves nowhere stays bare, so loading fails as Node says it would;
 * - anything else (JSON, CommonJS, `node:` built-ins): itself, untouched.
 * `import.meta.url`, `filename`, `dirname` and `resolve` keep naming the source file, and
 * source maps keep stack traces on the user's `.ts` lines.
 */
import { createHash, randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ImportKind, Message, Plugin, PluginBuild } from "esbuild";
import { config } from "../../src/core/config.js";
import { FlowDefinitionError } from "../../src/core/errors.js";
import { escapeRegExp, FLOW_API_URL, outputPath, RUNTIME_INDEX_URL, type CompiledFlow } from "./compiled-paths.js";

export interface CompileOptions {
  /** A step's dependency environment: bare imports resolve from its node_modules first. */
  envDir?: string;
}

const COMPILED = new Set([".ts", ".tsx", ".mts", ".cts", ".mjs", ".jsx"]);
/** `import`/`export` at the start of a line: a `.js` file written as an ES module (else CommonJS, loaded as it is). */
const ESM_SYNTAX = /^\s*(?:import\s*[\w*{"'(]|export\s)/m;
const UNUSED_DAYS = 7;
const INNER = Symbol("flowrun: resolving for the compiler's own plugin");

interface Manifest {
  outDir: string;
  /** Every source compiled (local modules, and files a dynamic-import pattern bundled in), with its SHA-256. */
  inputs: Array<{ file: string; sha256: string }>;
  /** package.json of every package an import resolved into, as it was: a reinstall recompiles. */
  packages: Array<{ file: string; mtimeMs: number; size: number }>;
  /** Bare imports that resolved nowhere, and the directories they were looked up from. */
  unresolved: Array<{ name: string; from: string[] }>;
}

/** Compiles `flowFile` (absolute) unless the cache holds its current sources compiled. */
export async function compileFlow(flowFile: string, options: CompileOptions = {}): Promise<CompiledFlow> {
  const root = compiledFlowsDir(flowFile);
  const manifestFile = join(root, "manifests", `${variantKey(flowFile, options)}.json`);
  const cached = readManifest(manifestFile);
  if (cached && isCurrent(cached, root)) {
    touch(join(root, cached.outDir));
    return compiledFlow(flowFile, join(root, cached.outDir));
  }
  const { files, manifest } = await compileSources(flowFile, options);
  const outDir = join(root, manifest.outDir);
  if (!existsSync(outDir)) {
    const staging = join(root, `.staging-${process.pid}-${randomBytes(4).toString("hex")}`);
    for (const [path, text] of files) {
      mkdirSync(dirname(join(staging, path)), { recursive: true });
      writeFileSync(join(staging, path), text);
    }
    try {
      renameSync(staging, outDir);
    } catch (error) {
      // Another process compiled the same sources first: theirs is identical.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(outDir)) throw error;
    }
  }
  writeAtomically(manifestFile, JSON.stringify(manifest));
  removeUnused(root);
  return compiledFlow(flowFile, outDir);
}

/**
 * What the last compile of `flowFile` read: every local source, and the package.json of every
 * installed package an import resolved into. Undefined before it was compiled.
 */
export function compiledSources(flowFile: string, options: CompileOptions = {}): { sources: string[]; packageManifests: string[] } | undefined {
  const manifest = readManifest(join(compiledFlowsDir(flowFile), "manifests", `${variantKey(flowFile, options)}.json`));
  return manifest && { sources: manifest.inputs.map((input) => input.file), packageManifests: manifest.packages.map((p) => p.file) };
}

/**
 * `node_modules/.cache/flowrun/compiled` of the nearest directory above the flow that has a
 * node_modules (where build tools keep caches; a dynamic `import(name)` in a compiled module
 * then still finds the project's packages); else flowrun's cache directory; else, for a user
 * who can write neither (another uid, a read-only home), a directory of theirs in the system's
 * temporary directory. Workers import the compiled files, so they must be written somewhere.
 */
export function compiledFlowsDir(flowFile: string): string {
  const candidates = [projectCacheDir(flowFile), config.compiledFlowsDir(), join(tmpdir(), `flowrun-${process.getuid?.() ?? "user"}`, "compiled")];
  return candidates.find((dir): dir is string => dir !== undefined && canCreate(dir)) ?? candidates.at(-1)!;
}

function projectCacheDir(flowFile: string): string | undefined {
  for (let dir = dirname(flowFile); ; dir = dirname(dir)) {
    const modules = join(dir, "node_modules");
    if (statSync(modules, { throwIfNoEntry: false })?.isDirectory()) return join(modules, ".cache", "flowrun", "compiled");
    if (dirname(dir) === dir) return undefined;
  }
}

/** Whether this process can write `dir`, or create it under its nearest existing ancestor. */
function canCreate(dir: string): boolean {
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    accessSync(existing, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function compiledFlow(file: string, outDir: string): CompiledFlow {
  return { file, url: pathToFileURL(outputPath(outDir, file)).href, outDir };
}

function variantKey(flowFile: string, options: CompileOptions): string {
  return sha256(JSON.stringify([flowFile, options.envDir ?? "", RUNTIME_INDEX_URL, compilerIdentity()]));
}

/** The compiler's own inputs: esbuild's version, the Node it targets and this file. */
function compilerIdentity(): string {
  const esbuildVersion = (createRequire(import.meta.url)("esbuild/package.json") as { version: string }).version;
  return `esbuild ${esbuildVersion}, node ${process.versions.node}, ${statSync(fileURLToPath(import.meta.url)).mtimeMs}`;
}

function isCurrent(manifest: Manifest, root: string): boolean {
  if (!existsSync(join(root, manifest.outDir))) return false;
  return (
    manifest.inputs.every(({ file, sha256: hash }) => sha256(readOrEmpty(file)) === hash) &&
    manifest.packages.every(({ file, mtimeMs, size }) => {
      const stat = statSync(file, { throwIfNoEntry: false });
      return stat?.mtimeMs === mtimeMs && stat.size === size;
    }) &&
    // A package installed since: compile again to import it by path.
    !manifest.unresolved.some(({ name, from }) => from.some((dir) => existsSync(join(dir, "node_modules", name, "package.json"))))
  );
}

async function compileSources(flowFile: string, options: CompileOptions): Promise<{ files: Map<string, string>; manifest: Manifest }> {
  const esbuild = await import("esbuild");
  const flowApi = new Set(Object.keys(await import(FLOW_API_URL)));
  const inputs = new Map<string, string>();
  const packages = new Map<string, Manifest["packages"][number]>();
  const unresolved = new Map<string, Set<string>>();
  const compiled = new Map<string, string>();
  const queued = new Set([flowFile]);
  let level = [flowFile];
  while (level.length > 0) {
    const next: string[] = [];
    const enqueue = (file: string) => {
      if (!queued.has(file)) queued.add(file), next.push(file);
    };
    const plugin = importResolver({ envDir: options.envDir, inputs, packages, unresolved, enqueue });
    const outputs = await Promise.all(level.map(async (file) => narrowedToFlowApi(await compileModule(esbuild, file, plugin), flowApi)));
    level.forEach((file, i) => compiled.set(file, outputs[i]!));
    level = next;
  }
  const files = new Map([...compiled].map(([source, text]) => [relative("/", outputPath("/", source)), text]));
  const outDir = sha256(JSON.stringify([...files].sort(([a], [b]) => a.localeCompare(b))));
  const manifest: Manifest = {
    outDir,
    inputs: [...inputs].map(([file, hash]) => ({ file, sha256: hash })),
    packages: [...packages.values()],
    unresolved: [...unresolved].map(([name, from]) => ({ name, from: [...from] })),
  };
  return { files, manifest };
}

async function compileModule(esbuild: typeof import("esbuild"), file: string, plugin: Plugin): Promise<string> {
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: `node${process.versions.node}`,
      outfile: outputPath("/", file),
      // As tsx compiles: the flow's own tsconfig (experimentalDecorators, say) must not change
      // how flows compile, and class and function names survive for messages.
      tsconfigRaw: {},
      keepNames: true,
      sourcemap: "external",
      sourcesContent: false,
      define: { "import.meta": "__flowrun_import_meta" },
      banner: { js: importMetaOf(file) },
      logLevel: "silent",
      plugins: [plugin],
    });
    const js = result.outputFiles.find((out) => out.path.endsWith(".mjs"))!.text;
    const map = JSON.parse(result.outputFiles.find((out) => out.path.endsWith(".map"))!.text) as { sources: string[] };
    // Sources by absolute URL: the compiled file moves into the cache after this.
    map.sources = map.sources.map((source) => pathToFileURL(resolve(dirname(outputPath("/", file)), source)).href);
    return `${js}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}\n`;
  } catch (error) {
    const first = (error as { errors?: Message[] }).errors?.[0];
    if (!first) throw error;
    const at = first.location ? `${resolve(first.location.file)}:${first.location.line}:${first.location.column + 1}: ` : `${file}: `;
    throw new FlowDefinitionError(`cannot load the flow: ${at}ERROR: ${first.text}`, {
      where: file,
      hint: "fix the error above; `flowrun check` validates the flow without running it",
    });
  }
}

/**
 * A module whose `flowrun` imports all name parts of the flow API imports src/flow-api
 * instead of the whole package: the client's modules cost every worker ~15 ms of CPU. Reads
 * esbuild's output, where an import has one form; a namespace, default or dynamic import of
 * `flowrun`, or any other name, keeps the whole package.
 */
function narrowedToFlowApi(js: string, flowApi: ReadonlySet<string>): string {
  const quoted = JSON.stringify(RUNTIME_INDEX_URL);
  const uses = js.split(quoted).length - 1;
  const named = [...js.matchAll(new RegExp(`^import \\{([^}]*)\\} from ${escapeRegExp(quoted)};$`, "gm"))];
  if (uses === 0 || named.length !== uses) return js;
  const names = named.flatMap((m) => m[1]!.split(",").map((part) => part.trim().split(/\s+as\s+/)[0]!).filter(Boolean));
  return names.every((name) => flowApi.has(name)) ? js.replaceAll(quoted, JSON.stringify(FLOW_API_URL)) : js;
}

/** `import.meta` of the source file, for the compiled module (esbuild's `define` puts this name in its place). */
function importMetaOf(file: string): string {
  const url = JSON.stringify(pathToFileURL(file).href);
  return [
    `const __flowrun_import_meta = { url: ${url}, filename: ${JSON.stringify(file)}, dirname: ${JSON.stringify(dirname(file))},`,
    `  resolve: (specifier) => /^\\.{0,2}\\//.test(specifier) ? new URL(specifier, ${url}).href : import.meta.resolve(specifier) };`,
  ].join("\n");
}

interface ResolverState {
  envDir?: string;
  inputs: Map<string, string>;
  packages: Map<string, Manifest["packages"][number]>;
  unresolved: Map<string, Set<string>>;
  enqueue(file: string): void;
}

function importResolver(state: ResolverState): Plugin {
  return {
    name: "flowrun-imports",
    setup(build) {
      // Read here, so what is hashed is what compiled.
      build.onLoad({ filter: /\.([cm]?tsx?|m?jsx?)$/ }, (args) => {
        const contents = readFileSync(args.path);
        state.inputs.set(args.path, sha256(contents));
        const ext = extname(args.path);
        return { contents, loader: ext.endsWith("x") ? (ext.includes("t") ? "tsx" : "jsx") : ext.includes("t") ? "ts" : "js" };
      });
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === "entry-point" || args.pluginData === INNER) return undefined;
        const specifier = args.path;
        if (specifier === "flowrun") return { path: RUNTIME_INDEX_URL, external: true };
        if (isBuiltin(specifier) || /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(specifier)) return { path: specifier, external: true };
        const lookups = isBare(specifier) && state.envDir ? [state.envDir, args.resolveDir] : [args.resolveDir];
        for (const resolveDir of lookups) {
          const found = await resolveFrom(build, specifier, resolveDir, args.kind);
          if (found) return external(found, args.importer, state);
        }
        if (isBare(specifier)) {
          const name = packageName(specifier);
          const from = state.unresolved.get(name) ?? new Set();
          for (const dir of lookups) for (let d = dir; ; d = dirname(d)) {
            from.add(d);
            if (dirname(d) === d) break;
          }
          state.unresolved.set(name, from);
          return { path: specifier, external: true };
        }
        return { errors: [{ text: `Cannot find module '${resolve(args.resolveDir, specifier)}'` }] };
      });
    },
  };
}

async function resolveFrom(build: PluginBuild, specifier: string, resolveDir: string, kind: ImportKind) {
  const result = await build.resolve(specifier, { resolveDir, kind, pluginData: INNER });
  return result.errors.length === 0 && result.path && !result.external ? result.path : undefined;
}

function external(path: string, importer: string, state: ResolverState) {
  if (isLocalSource(path)) {
    state.enqueue(path);
    let specifier = relative(dirname(outputPath("/", importer)), outputPath("/", path)).split(sep).join("/");
    if (!specifier.startsWith(".")) specifier = `./${specifier}`;
    return { path: specifier, external: true };
  }
  const manifest = packageJsonOf(path);
  if (manifest && !state.packages.has(manifest)) {
    const { mtimeMs, size } = statSync(manifest);
    state.packages.set(manifest, { file: manifest, mtimeMs, size });
  }
  return { path: pathToFileURL(path).href, external: true };
}

function isLocalSource(path: string): boolean {
  if (path.split(sep).includes("node_modules")) return false;
  const ext = extname(path);
  return COMPILED.has(ext) || (ext === ".js" && ESM_SYNTAX.test(readOrEmpty(path).toString("utf8")));
}

/** package.json of the installed package `path` belongs to (`.../node_modules/<name>/...`). */
function packageJsonOf(path: string): string | undefined {
  const parts = path.split(sep);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0 || at + 1 >= parts.length) return undefined;
  const length = parts[at + 1]!.startsWith("@") ? at + 3 : at + 2;
  return [...parts.slice(0, length), "package.json"].join(sep);
}

function isBare(specifier: string): boolean {
  return !/^(\.{0,2}\/|#)/.test(specifier);
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function readManifest(file: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch {
    return undefined; // not compiled yet (or unreadable): compile
  }
}

function readOrEmpty(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
}

function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

/** The output directory's mtime says when a run last used it. */
function touch(dir: string): void {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
  } catch {
    // a read-only cache is still a cache
  }
}

/** Output directories no run used for a week: an edited flow leaves its old compile behind. */
function removeUnused(root: string): void {
  const before = Date.now() - UNUSED_DAYS * 86_400_000;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === "manifests") continue;
    const dir = join(root, entry.name);
    if ((statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < before) rmSync(dir, { recursive: true, force: true });
  }
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
