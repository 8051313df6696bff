/**
 * `flowrun env`: the cache of step dependency environments (see runtime/environments/).
 *
 *   flowrun env list [--json]          id, packages, size, created; and leftovers to clean
 *   flowrun env path ID                the folder of one environment (unique id prefix ok)
 *   flowrun env clean                  leftovers of interrupted builds only
 *   flowrun env clean ID... | --all    those environments too (rebuilt on next use)
 *   flowrun env types <flow.ts>        the flow's environments as tsconfig paths (env-types.ts)
 *
 * `env build <flow.ts>` needs the flow loader and comes with the runtime.
 *
 * The cache is `config.environmentCacheDir()` (src/core/config.ts). Removing an environment that a
 * running flow is using breaks that run's next imports; environments are never removed
 * implicitly.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { config } from "../../core/config.js";
import { FlowrunError, NotFoundError, UsageError } from "../../core/errors.js";
import {
  discard,
  diskUsage,
  isAlive,
  listEnvironments,
  listLeftovers,
  type CachedEnvironment,
  type Leftover,
} from "../../../runtime/environments/environment-cache.js";
import { describePackages } from "../../../runtime/environments/environment-spec.js";

export interface CommandIO {
  out(line: string): void;
  err(line: string): void;
}

const consoleIO: CommandIO = { out: (line) => console.log(line), err: (line) => console.error(line) };

const USAGE = "usage: flowrun env list [--json] | path ID | clean [--all | ID...] | types <flow.ts> [--out FILE]";

export async function run(args: string[], io: CommandIO = consoleIO): Promise<number> {
  const [sub, ...rest] = args;
  const root = config.environmentCacheDir();
  try {
    switch (sub) {
      case "list":
        return await list(root, rest, io);
      case "path":
        if (rest.length !== 1) throw new UsageError("env path takes one environment id", { hint: USAGE });
        io.out((await findOne(root, rest[0]!)).dir);
        return 0;
      case "clean":
        return await clean(root, rest, io);
      case "types":
        return await (await import("./env-types.js")).envTypes(rest, io);
      case "build":
        throw new UsageError("env build is not available yet: environments are built by `flowrun run`");
      default:
        throw new UsageError(sub ? `unknown env command ${sub}` : "env needs a command", { hint: USAGE });
    }
  } catch (error) {
    if (!(error instanceof FlowrunError)) throw error;
    io.err(error.oneLine());
    return error.exitCode;
  }
}

async function list(root: string, args: string[], io: CommandIO): Promise<number> {
  const unknown = args.filter((arg) => arg !== "--json");
  if (unknown.length) throw new UsageError(`unknown option ${unknown[0]}`, { hint: USAGE });
  const envs = await Promise.all(
    (await listEnvironments(root)).map(async (env) => ({ ...env, size: await diskUsage(env.dir) })),
  );
  const leftovers = await listLeftovers(root);
  if (args.includes("--json")) {
    io.out(JSON.stringify({ root, environments: envs, leftovers: leftovers.length }, null, 2));
    return 0;
  }
  if (envs.length === 0) io.out(`no environments in ${root}`);
  else {
    const rows = envs.map((env) => [env.id, describePackages(env.packages), formatSize(env.size), formatDate(env.createdAt)]);
    for (const row of table([["ID", "PACKAGES", "SIZE", "CREATED"], ...rows])) io.out(row);
  }
  if (leftovers.length) {
    io.out(`${leftovers.length} leftover(s) of interrupted builds; \`flowrun env clean\` removes them`);
  }
  return 0;
}

async function clean(root: string, args: string[], io: CommandIO): Promise<number> {
  const all = args.includes("--all");
  const ids = args.filter((arg) => arg !== "--all");
  const option = ids.find((arg) => arg.startsWith("-"));
  if (option) throw new UsageError(`unknown option ${option}`, { hint: USAGE });
  if (all && ids.length) throw new UsageError("env clean takes --all or ids, not both", { hint: USAGE });
  // Resolve every id before removing anything: a typo removes nothing.
  const targets = all ? await listEnvironments(root) : await Promise.all(ids.map((id) => findOne(root, id)));
  let freed = 0;
  for (const env of targets) {
    freed += await diskUsage(env.dir);
    await discard(env.dir);
    io.out(`removed ${env.id} (${describePackages(env.packages)})`);
  }
  let removed = 0;
  for (const leftover of await listLeftovers(root)) {
    if (!(await abandoned(leftover))) continue;
    freed += await diskUsage(leftover.path).catch(() => 0);
    await discard(leftover.path);
    removed++;
  }
  if (removed) io.out(`removed ${removed} leftover(s) of interrupted builds`);
  if (!targets.length && !removed) io.out("nothing to clean");
  else io.out(`freed ${formatSize(freed)}`);
  return 0;
}

/** Leftovers of a build still running on this machine are kept; everything else can go. */
async function abandoned(leftover: Leftover): Promise<boolean> {
  if (leftover.kind === "temp") return leftover.pid === undefined || !isAlive(leftover.pid);
  if (leftover.kind !== "lock") return true;
  try {
    const owner = JSON.parse(await readFile(leftover.path, "utf8")) as { pid: number; host: string };
    return owner.host === hostname() && !isAlive(owner.pid);
  } catch {
    return false; // being written, or gone: not ours to judge
  }
}

async function findOne(root: string, idOrPrefix: string): Promise<CachedEnvironment> {
  const matches = (await listEnvironments(root)).filter((env) => env.id.startsWith(idOrPrefix));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UsageError(`environment id ${idOrPrefix} is ambiguous`, { hint: "give more characters of the id" });
  throw new NotFoundError(`no environment ${idOrPrefix} in ${root}`, { hint: "flowrun env list shows the ids" });
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd());
}

function formatSize(bytes: number): string {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function formatDate(iso: string): string {
  return iso.replace("T", " ").slice(0, 16);
}
