/**
 * Installs an environment with the npm on PATH, exactly as `npm install` would in a fresh
 * folder holding only a package.json: the user's npm configuration applies (registry,
 * scoped registries, auth, proxy, `ignore-scripts`) because the environment is inherited
 * and npm reads the user and global npmrc as usual. A project-level .npmrc of the flow's
 * folder does not apply: npm runs in the cache, not in the project.
 *
 * Install scripts run (npm's default). A step imports and runs its packages anyway, so
 * their scripts add no trust that the step did not already need, and packages with native
 * addons (built or fetched by an install script) would otherwise be broken. Users who want
 * them off set `ignore-scripts=true` in their npmrc or pass `--ignore-scripts` in npmArgs.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { EnvironmentError } from "../../src/core/errors.js";
import { summarizeNpmError } from "./npm-error-summary.js";
import type { PackageSet } from "./environment-spec.js";
import type { InstallOptions, Installer } from "./installer.js";

const NPM_ARGS = [
  "install",
  "--no-audit", // a network round trip per build, and its report is noise here
  "--no-fund",
  "--no-update-notifier",
  "--package-lock", // the lock is how the versions get recorded, whatever the user's config
];

export const npmInstaller: Installer = {
  name: "npm",
  async install(dir: string, dependencies: PackageSet, options: InstallOptions): Promise<PackageSet> {
    const manifest = { name: "flowrun-env", private: true, dependencies };
    await writeFile(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    // --prefix: `npm run` exports npm_config_* of the calling project; pin the target folder.
    await runNpm([...NPM_ARGS, "--prefix", dir, ...(options.extraArgs ?? [])], dir, options);
    return lockFromPackageLock(await readLockfile(dir), dir);
  },
};

function runNpm(args: string[], cwd: string, options: InstallOptions): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.platform === "win32" ? "npm.cmd" : "npm", args, {
      cwd,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32", // .cmd files need a shell since Node 20.12
    });
    let output = "";
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (options.onProgress) for (const line of text.split(/\r?\n/)) if (line.trim()) options.onProgress(line);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (error) =>
      reject(
        new EnvironmentError(`cannot run npm: ${error.message}`, {
          where: options.label,
          hint: "dependency environments need npm on PATH",
          cause: error,
        }),
      ),
    );
    child.on("close", (code, signal) => {
      if (code === 0) return resolvePromise();
      const reason = signal ? `npm install was stopped by ${signal}` : summarizeNpmError(output);
      reject(
        new EnvironmentError(`npm install failed: ${reason}`, {
          where: options.label,
          hint: /request to |ECONN|ETIMEDOUT|EAI_AGAIN|ENOTFOUND/.test(reason)
            ? "check that the registry is reachable (npm config get registry)"
            : "check the package names and versions in @dependencies (npm view NAME versions)",
          cause: new Error(output.trim()),
        }),
      );
    });
  });
}

interface LockEntry {
  version?: string;
  resolved?: string;
  name?: string;
  link?: boolean;
}

async function readLockfile(dir: string): Promise<{ packages?: Record<string, LockEntry> }> {
  // The hidden lockfile in node_modules has the same shape; it exists even when a user's
  // npm ignores --package-lock (very old npm, unusual config).
  for (const file of [join(dir, "package-lock.json"), join(dir, "node_modules", ".package-lock.json")]) {
    try {
      return JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return {};
}

/**
 * name -> exact version from an npm v2/v3 lockfile. Where one name is installed at several
 * versions, the shallowest copy wins: it is the one a bare import from the step resolves.
 */
export function lockFromPackageLock(lockfile: { packages?: Record<string, LockEntry> }, dir: string): PackageSet {
  const lock: PackageSet = {};
  const installed = Object.entries(lockfile.packages ?? {})
    .filter(([key]) => key.startsWith("node_modules/"))
    .sort(([a], [b]) => a.split("node_modules/").length - b.split("node_modules/").length);
  for (const [key, entry] of installed) {
    const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
    lock[name] ??= exactSource(name, entry, dir);
  }
  return lock;
}

/**
 * What to ask npm for to get this exact package again. Registry packages: the version.
 * Others would be looked up in the registry by version and not found, so their source is
 * kept instead: a local tarball or folder (absolute), a git commit, a remote tarball URL.
 */
function exactSource(name: string, entry: LockEntry, dir: string): string {
  const resolved = entry.resolved ?? "";
  if (entry.link) return `file:${resolve(dir, resolved)}`;
  if (resolved.startsWith("file:")) return `file:${resolve(dir, resolved.slice("file:".length))}`;
  if (/^git(\+|:)/.test(resolved)) return resolved;
  // Registry tarballs live at <registry>/<name>/-/<file>.tgz; any other URL was asked for.
  if (/^https?:/.test(resolved) && !resolved.includes("/-/")) return resolved;
  if (entry.name && entry.name !== name) return `npm:${entry.name}@${entry.version}`;
  return entry.version ?? resolved;
}
