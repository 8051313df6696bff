/**
 * A copy of this checkout (the files git tracks or would track, as they are on disk) with
 * node_modules linked to the checkout's own, for tests that build `dist/` or run `make`:
 * they must start from no `dist/`, and must not rebuild it under other tests running from it.
 * Also what `npm install` would put in a user's project, done with links instead of a registry.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO } from "./flowrun-cli.js";

export interface CheckoutCopy {
  dir: string;
  remove(): void;
}

/** Copies the checkout into a temp directory (no dist/, no .flowrun/). */
export function copyCheckout(): CheckoutCopy {
  const parent = mkdtempSync(join(tmpdir(), "flowrun-checkout-"));
  const dir = join(parent, "flowrun");
  mkdirSync(dir);
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" })
    .split("\0")
    .filter((file) => file !== "" && file !== "node_modules");
  // tar keeps modes and is one process for 300 files; files deleted but not yet committed are skipped.
  execFileSync("sh", ["-c", `tar -cf - --null --ignore-failed-read -T - 2>/dev/null | tar -xf - -C "${dir}"`], { cwd: REPO, input: files.join("\0") });
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => rmSync(parent, { recursive: true, force: true }) };
}

/** Environment for child processes: no datastore or cache settings of the test run leak in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ["FLOWRUN_DATASTORE", "FLOWRUN_DATASTORE_ROOT", "npm_lifecycle_event", "NODE_OPTIONS"]) delete env[key];
  return { ...env, NO_COLOR: "1", ...extra };
}

/**
 * What `npm install` leaves in a project made by `flowrun init`, from local copies: flowrun
 * (a link to the built `checkout`), its bin, and the dev dependencies the project lists.
 */
export function linkProjectDependencies(project: string, checkout: string): void {
  const link = (target: string, path: string) => {
    mkdirSync(dirname(join(project, "node_modules", path)), { recursive: true });
    symlinkSync(target, join(project, "node_modules", path));
  };
  link(checkout, "flowrun");
  link(join(REPO, "node_modules/typescript"), "typescript");
  link(join(REPO, "node_modules/@types/node"), "@types/node");
  link("../flowrun/bin/flowrun", ".bin/flowrun");
  link("../typescript/bin/tsc", ".bin/tsc");
}
