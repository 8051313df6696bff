/**
 * flowrun's configuration, read in one place: every `FLOWRUN_*` environment variable (what it
 * sets, the values it takes, its default, the command-line option that wins over it), the
 * cache directories, and the defaults the CLI, the client and the help text share. The
 * README's "Environment variables" table is `ENV_VARS` written out, and test/config.test.ts
 * fails when the two differ.
 *
 * A bottom-layer module (Node and src/core/errors.ts only), so the CLI, the client, the runtime
 * and code inside a worker all read the same rules.
 *
 * Empty values: a variable set to "" counts as unset, since `FOO= flowrun run` and a script's
 * unset `$FOO` both mean "not configured". The two variables that choose the datastore are
 * the exception: there an empty value is a usage error, because where runs are written must
 * never be guessed (an unset variable in a CI script would otherwise write to `.flowrun/`).
 */
import { homedir, userInfo } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { UsageError } from "./errors.js";

/** Tasks running at once (`--max-workers`), as in Metaflow; honoured as given, not capped at the core count. */
export const DEFAULT_MAX_WORKERS = 16;
/** The most splits one foreach may make (`--max-num-splits`), as in Metaflow. */
export const DEFAULT_MAX_NUM_SPLITS = 10_000;
/** Seconds between a run's heartbeats; a run whose heartbeat is three beats old shows as crashed. */
export const DEFAULT_HEARTBEAT_SECONDS = 10;
/** A task running longer than this many seconds is named while it runs. */
export const DEFAULT_SLOW_TASK_SECONDS = 60;
/** Where the task queue's Redis is when neither `--redis` nor FLOWRUN_REDIS_URL says. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
/** How many runs `flowrun runs` lists without `--limit`: recent history on one screen; its footer says how to see more. */
export const DEFAULT_RUNS_LIMIT = 20;

export type Env = NodeJS.ProcessEnv;

/** One environment variable flowrun reads; a row of the README's table. */
export interface EnvVar<T> {
  /** `FLOWRUN_...`; `<NAME>` in it marks a family (one variable per flow parameter). */
  readonly name: string;
  /** What it sets. */
  readonly sets: string;
  /** The values it takes. */
  readonly values: string;
  /** What applies when it is unset (or empty, where empty counts as unset). */
  readonly default: string;
  /** The command-line option that wins over it. */
  readonly option?: string;
  /** Set to "": counts as unset, or is a usage error with this hint. */
  readonly whenEmpty: "unset" | { hint: string };
  /** The value of a non-empty setting; throws a one-line UsageError naming the variable. */
  readonly parse: (raw: string) => T;
}

export type DatastoreKind = "local" | "s3";

/** A `--datastore` or `FLOWRUN_DATASTORE` value. */
export function datastoreKind(value: string): DatastoreKind {
  if (value === "local" || value === "s3") return value;
  throw new UsageError(`unknown datastore "${value}"`, { hint: `use --datastore local or --datastore s3 (or ${ENV_VARS.datastore.name})` });
}

const PARAMETER_PREFIX = "FLOWRUN_RUN_";

/** The variable that sets parameter `name` when the command line does not (as METAFLOW_RUN_<NAME>). */
export function parameterVariable(name: string): string {
  return `${PARAMETER_PREFIX}${name.toUpperCase().replace(/-/g, "_")}`;
}

const text = (raw: string) => raw;
const positive = (raw: string) => {
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? value : undefined;
};
const cacheDefault = (cache: CacheName) => `\`$XDG_CACHE_HOME/flowrun/${cache}\`, else \`~/.cache/flowrun/${cache}\``;

/** Every variable, in the order the README lists them. */
export const ENV_VARS = {
  datastore: {
    name: "FLOWRUN_DATASTORE",
    sets: "the datastore runs write to and commands and the client read",
    values: "`local` or `s3`",
    default: "`local`",
    option: "--datastore",
    whenEmpty: { hint: "set it to local or s3, or unset it to use local" },
    parse: datastoreKind,
  },
  datastoreRoot: {
    name: "FLOWRUN_DATASTORE_ROOT",
    sets: "where that datastore is",
    values: "a directory (local), `s3://bucket/prefix` (s3)",
    default: "the nearest `.flowrun/` at or above the working directory, else `./.flowrun/`",
    option: "--datastore-root",
    whenEmpty: { hint: "set it to a directory or s3://bucket/prefix, or unset it to use .flowrun/" },
    parse: text,
  },
  user: {
    name: "FLOWRUN_USER",
    sets: "who runs: the `user:` tag, the `user.<name>` branch, the default namespace",
    values: "a user name",
    default: "the OS user",
    whenEmpty: "unset",
    parse: text,
  },
  runParameter: {
    name: parameterVariable("<name>"),
    sets: "the flow parameter `--<name>` (upper case, `-` as `_`)",
    values: "as on the command line",
    default: "the parameter's default",
    option: "--<name>",
    whenEmpty: "unset",
    parse: text,
  },
  heartbeatSeconds: {
    name: "FLOWRUN_HEARTBEAT_SECONDS",
    sets: "seconds between a run's heartbeats (three missed: the run shows as crashed)",
    values: "seconds > 0",
    default: String(DEFAULT_HEARTBEAT_SECONDS),
    whenEmpty: "unset",
    parse: (raw: string) =>
      positive(raw) ??
      fail(`FLOWRUN_HEARTBEAT_SECONDS must be a positive number of seconds, got "${raw}"`, `unset it to use ${DEFAULT_HEARTBEAT_SECONDS}`),
  },
  slowTaskSeconds: {
    name: "FLOWRUN_SLOW_TASK_SECONDS",
    sets: "how long a task runs before it is named as still running",
    values: "seconds > 0",
    default: String(DEFAULT_SLOW_TASK_SECONDS),
    whenEmpty: "unset",
    parse: (raw: string) =>
      positive(raw) ??
      fail(
        `FLOWRUN_SLOW_TASK_SECONDS=${raw} is not a number of seconds`,
        "set it to how long a task may run before it is named as still running, e.g. FLOWRUN_SLOW_TASK_SECONDS=120",
      ),
  },
  blobCache: {
    name: "FLOWRUN_CACHE_DIR",
    sets: "the cache of blobs read from or written to S3",
    values: "a directory",
    default: cacheDefault("blobs"),
    whenEmpty: "unset",
    parse: text,
  },
  environmentCache: {
    name: "FLOWRUN_ENV_CACHE",
    sets: "where `@dependencies` environments are built and kept",
    values: "a directory",
    default: cacheDefault("envs"),
    whenEmpty: "unset",
    parse: text,
  },
  redisUrl: {
    name: "FLOWRUN_REDIS_URL",
    sets: "the Redis of the task queue: remote steps (`--with remote`, `@remote`), `flowrun worker`, `flowrun workers`",
    values: "`redis://host:port` (`rediss://` for TLS)",
    default: `\`${DEFAULT_REDIS_URL}\``,
    option: "--redis",
    whenEmpty: "unset",
    parse: (raw: string) => redisUrl(raw, "FLOWRUN_REDIS_URL="),
  },
} as const satisfies Record<string, EnvVar<unknown>>;

/** `raw` as a Redis URL (`redis://` or `rediss://`, with a host), else a UsageError naming where it came from. */
export function redisUrl(raw: string, from = "--redis"): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // not a URL at all: said below
  }
  if (!url || (url.protocol !== "redis:" && url.protocol !== "rediss:") || !url.hostname) {
    fail(`${from}${from.endsWith("=") ? "" : " "}${raw} is not a redis:// URL`, "give redis://host:6379 (rediss:// for TLS)");
  }
  return raw;
}

function fail(message: string, hint: string): never {
  throw new UsageError(message, { hint });
}

/** The variable's value: undefined when unset (or empty, where that counts as unset). */
function read<T>(variable: EnvVar<T>, env: Env, name = variable.name): T | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  if (raw === "") {
    if (variable.whenEmpty === "unset") return undefined;
    throw new UsageError(`${name} is set but empty`, { hint: variable.whenEmpty.hint });
  }
  return variable.parse(raw);
}

/** The caches under the cache root; the ones an `ENV_VARS` entry can move elsewhere say which. */
export type CacheName = "blobs" | "envs" | "graphs" | "compiled" | "code";
const CACHE_OVERRIDE: Record<CacheName, EnvVar<string> | undefined> = {
  blobs: ENV_VARS.blobCache,
  envs: ENV_VARS.environmentCache,
  graphs: undefined,
  compiled: undefined,
  code: undefined,
};

/**
 * `$XDG_CACHE_HOME/flowrun`, else `~/.cache/flowrun`. As the XDG Base Directory spec says, an
 * XDG_CACHE_HOME that is empty or relative is ignored. The caches live outside any project so
 * that every flow on the machine shares downloaded blobs and built environments.
 */
export function cacheRoot(env: Env = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".cache"), "flowrun");
}

/** One cache's directory (absolute): its variable when set, else `<cache root>/<cache>`. */
export function cacheDir(cache: CacheName, env: Env = process.env): string {
  const variable = CACHE_OVERRIDE[cache];
  const dir = variable && read(variable, env);
  return dir === undefined ? join(cacheRoot(env), cache) : resolve(dir);
}

function osUser(env: Env): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (a container run with an arbitrary uid).
    return env.USER || "unknown";
  }
}

/** Typed readers of the environment; each takes `env` so tests need not touch `process.env`. */
export const config = {
  /** `FLOWRUN_DATASTORE`, else `local`. */
  datastore: (env: Env = process.env): DatastoreKind => read(ENV_VARS.datastore, env) ?? "local",
  /** `FLOWRUN_DATASTORE_ROOT`; undefined means "find `.flowrun/`" (see src/core/datastore-config.ts). */
  datastoreRoot: (env: Env = process.env): string | undefined => read(ENV_VARS.datastoreRoot, env),
  /** `FLOWRUN_USER`, else the OS user. */
  user: (env: Env = process.env): string => read(ENV_VARS.user, env) ?? osUser(env),
  /** Raw values of the parameters among `names` that a `FLOWRUN_RUN_<NAME>` sets. */
  parameters: (names: readonly string[], env: Env = process.env): Record<string, string> =>
    Object.fromEntries(
      names.flatMap((name) => {
        const value = read(ENV_VARS.runParameter, env, parameterVariable(name));
        return value === undefined ? [] : [[name, value]];
      }),
    ),
  heartbeatSeconds: (env: Env = process.env): number => read(ENV_VARS.heartbeatSeconds, env) ?? DEFAULT_HEARTBEAT_SECONDS,
  slowTaskSeconds: (env: Env = process.env): number => read(ENV_VARS.slowTaskSeconds, env) ?? DEFAULT_SLOW_TASK_SECONDS,
  blobCacheDir: (env: Env = process.env): string => cacheDir("blobs", env),
  environmentCacheDir: (env: Env = process.env): string => cacheDir("envs", env),
  graphCacheDir: (env: Env = process.env): string => cacheDir("graphs", env),
  compiledFlowsDir: (env: Env = process.env): string => cacheDir("compiled", env),
  /** `FLOWRUN_REDIS_URL`, else Redis on this machine. */
  redisUrl: (env: Env = process.env): string => read(ENV_VARS.redisUrl, env) ?? DEFAULT_REDIS_URL,
  /** Where `flowrun worker` unpacks the code packages of the runs it serves. */
  codePackageDir: (env: Env = process.env): string => cacheDir("code", env),
};

/**
 * Not a setting: bin/flowrun sets this beside the GLIBC_TUNABLES it adds for the CLI's own
 * process (it says why). Keep the name in step with bin/flowrun.
 */
const LAUNCHER_SET_TUNABLES = "FLOWRUN_SET_GLIBC_TUNABLES";

/** Takes out of `env` what bin/flowrun set for this process alone: the processes steps start get the user's environment. */
export function dropLauncherSettings(env: Env = process.env): void {
  if (!env[LAUNCHER_SET_TUNABLES]) return;
  delete env.GLIBC_TUNABLES;
  delete env[LAUNCHER_SET_TUNABLES];
}
