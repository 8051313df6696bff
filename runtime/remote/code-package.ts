/**
 * Code travels with the run: what a worker on another machine needs to run the flow exactly
 * as the CLI would, as one content-addressed blob in the run's datastore (Metaflow's code
 * package). It holds the flow file, the local modules it imports (what its compile read),
 * the project's package.json and lockfile, and the exact versions of the installed packages
 * its imports resolved into. A worker fetches it by hash, checks the hash, unpacks it once
 * into its code cache, and installs those packages into an environment of its own; no
 * filesystem is shared with the CLI.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { DatastoreError, FlowDefinitionError } from "../../src/core/errors.js";
import { compiledSources } from "../compile/flow-compiler.js";
import type { StorageBackend } from "../datastore/storage-backend.js";

/** What a job carries to find the run's code. */
export interface CodePackageRef {
  /** SHA-256 of the package's bytes: its blob in the datastore. */
  hash: string;
  /** The flow file, relative to the package's root. */
  flow: string;
  /** Where the CLI read the files: a worker names the user's own paths in messages. */
  root: string;
}

interface CodePackage {
  format: 1;
  flow: string;
  /** Path relative to the root -> the file's bytes, base64. */
  files: Record<string, string>;
  /** Installed packages the flow imports (not flowrun itself): name -> exact version. */
  packages: Record<string, string>;
}

/** A code package unpacked on this machine. */
export interface CheckedOutCode {
  flowFile: string;
  dir: string;
  packages: Record<string, string>;
}

/**
 * Packs the flow as it was just compiled (`compileFlow` ran first) and stores it in the
 * datastore unless the datastore already has these exact bytes.
 */
export async function publishCodePackage(flowFile: string, backend: StorageBackend): Promise<CodePackageRef> {
  const compiled = compiledSources(flowFile);
  if (!compiled) throw new FlowDefinitionError("the flow must be compiled before its code is packaged", { where: flowFile, hint: "this is a bug in flowrun: please report it" });
  const project = projectDir(flowFile);
  const files = [...new Set([flowFile, ...compiled.sources, ...(project ? ["package.json", "package-lock.json"].map((f) => join(project, f)).filter((f) => existsSync(f)) : [])])];
  const root = commonDir(files);
  const packages: Record<string, string> = {};
  for (const manifest of compiled.packageManifests) {
    const { name, version } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
    if (name && version && name !== "flowrun") packages[name] = version;
  }
  const pkg: CodePackage = {
    format: 1,
    flow: relative(root, flowFile).split(sep).join("/"),
    files: Object.fromEntries(files.sort().map((file) => [relative(root, file).split(sep).join("/"), readFileSync(file).toString("base64")])),
    packages: Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b))),
  };
  // Node writes no name and a zero mtime into the gzip header: the same code makes the same bytes, so the same hash.
  const bytes = gzipSync(JSON.stringify(pkg), { level: 6 });
  const hash = sha256(bytes);
  if (!(await backend.hasBlob(hash))) await backend.putBlob(hash, bytes);
  return { hash, flow: pkg.flow, root };
}

/** Fetches, checks and unpacks a code package into `cacheDir/<hash>` (once: later calls reuse it). */
export async function checkoutCodePackage(ref: CodePackageRef, backend: StorageBackend, cacheDir: string): Promise<CheckedOutCode> {
  const dir = join(cacheDir, ref.hash);
  const manifestFile = join(dir, ".flowrun-code.json");
  if (existsSync(manifestFile)) {
    const packages = JSON.parse(readFileSync(manifestFile, "utf8")) as Record<string, string>;
    return { flowFile: join(dir, ref.flow), dir, packages };
  }
  const bytes = await backend.getBlob(ref.hash);
  if (!bytes) throw new DatastoreError(`the run's code package ${ref.hash.slice(0, 12)} is not in ${backend.location}`, { hint: "the worker must use the run's datastore: check its --datastore-root" });
  if (sha256(bytes) !== ref.hash) throw new DatastoreError(`the run's code package ${ref.hash.slice(0, 12)} in ${backend.location} is damaged (its hash differs)`, { hint: "run the flow again to upload it anew" });
  const pkg = JSON.parse(gunzipSync(bytes).toString("utf8")) as CodePackage;
  const staging = `${dir}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  for (const [path, data] of Object.entries(pkg.files)) {
    const target = resolve(staging, path);
    // A package is data from the datastore: none of its paths may leave its directory.
    if (!target.startsWith(`${staging}${sep}`)) throw new DatastoreError(`the run's code package ${ref.hash.slice(0, 12)} names a path outside itself: ${path}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(data, "base64"));
  }
  writeFileSync(join(staging, ".flowrun-code.json"), JSON.stringify(pkg.packages));
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another process of this machine unpacked it first: theirs is the same.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(manifestFile)) throw error;
  }
  return { flowFile: join(dir, pkg.flow), dir, packages: pkg.packages };
}

/** The nearest directory at or above the flow's that has a package.json. */
function projectDir(flowFile: string): string | undefined {
  for (let dir = dirname(flowFile); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

function commonDir(files: string[]): string {
  let common = dirname(files[0]!);
  for (const file of files) while (relative(common, file).startsWith("..")) common = dirname(common);
  return common;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
