/**
 * Runs the real `flowrun` command line in a child process, against a throwaway local
 * datastore, and reads what it stored back through the client API. Every test that runs a
 * flow end to end goes through here, so they all see the CLI exactly as a user does.
 *
 * The child is `node --import <tsx> src/cli/main.ts`: tsx is passed as an absolute URL so
 * the child may run in any directory (a bare `--import tsx` resolves from the cwd).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Run, namespace, getNamespace } from "../../src/index.js";
import type { DatastoreConfig } from "../../src/core/datastore-config.js";

/** The repository root. */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(REPO, "src/cli/main.ts");
const TSX = import.meta.resolve("tsx");

/** An example flow under `flows/`. */
export const exampleFlow = (file: string): string => join(REPO, "flows", file);
/** A test flow under `test/fixtures/flows/`. */
export const fixtureFlow = (file: string): string => join(REPO, "test/fixtures/flows", file);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
}

/**
 * A CLI still running after this long is hung, not slow (the longest flow a test runs takes
 * well under a minute): it is killed and its test fails with what it printed, instead of
 * holding the suite until CI's own limit.
 */
const HUNG_CLI_MS = 240_000;

/** `flowrun ...args`, to completion. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], {
    cwd: options.cwd ?? REPO,
    // NO_COLOR and no TTY: output is plain text the tests can match.
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const hung = setTimeout(() => {
    stderr += `\n(test support: flowrun ${args.join(" ")} still running after ${HUNG_CLI_MS / 1000} s; killed)\n`;
    child.kill("SIGKILL");
  }, HUNG_CLI_MS);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(hung);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

export interface TempDatastore {
  /** The datastore directory. */
  root: string;
  /** What the client API takes: `new Flow(name, { datastore })`. */
  datastore: DatastoreConfig;
  /** Points a child `flowrun` at this datastore. */
  env: Record<string, string>;
  /** Deletes the directory. */
  remove(): void;
}

/** A fresh, empty local datastore in a temp directory. */
export function tempDatastore(): TempDatastore {
  // A name without a dot: lmdb opens a path with an "extension" as a single file, not a
  // directory (mkdtemp's own directory has none, but keep the datastore's name plain too).
  const root = join(mkdtempSync(join(tmpdir(), "flowrun-test-")), "datastore");
  return {
    root,
    datastore: { kind: "local", root },
    env: { FLOWRUN_DATASTORE: "local", FLOWRUN_DATASTORE_ROOT: root },
    remove: () => rmSync(join(root, ".."), { recursive: true, force: true }),
  };
}

export interface FlowRunResult extends CliResult {
  /** The run ID the CLI wrote to --run-id-file ("" when the run never started). */
  runId: string;
}

/** `flowrun run <flowFile> ...args` on `store`, returning the run ID too. */
export async function runFlowCli(flowFile: string, args: string[], store: TempDatastore, options: CliOptions = {}): Promise<FlowRunResult> {
  const idFile = join(store.root, "..", `run-id-${Math.random().toString(36).slice(2)}`);
  const result = await runCli(["run", flowFile, ...args, "--run-id-file", idFile], { ...options, env: { ...store.env, ...options.env } });
  let runId = "";
  try {
    runId = readFileSync(idFile, "utf8").trim();
  } catch {
    // the run did not start (bad usage, invalid flow)
  }
  return { ...result, runId };
}

/** The `inNamespace` call running now: the next waits for it. */
let namespaceHeld: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` with the client namespace set to `ns`, restoring it afterwards. The namespace is
 * the process's, so calls from tests running concurrently take turns: interleaved, one test's
 * restore changed the namespace under another's read ("not in the current namespace").
 */
export function inNamespace<T>(ns: string | null, fn: () => Promise<T>): Promise<T> {
  const turn = namespaceHeld.then(async () => {
    const previous = getNamespace();
    namespace(ns);
    try {
      return await fn();
    } finally {
      namespace(previous);
    }
  });
  namespaceHeld = turn.catch(() => {});
  return turn;
}

/** The run `Flow/runId` in `store`, whoever made it. */
export function readRun(pathspec: string, store: TempDatastore): Promise<Run> {
  return inNamespace(null, () => Run.get(pathspec, { datastore: store.datastore }));
}

/** A failed CLI run as one string, for assertion messages. */
export function describeResult(result: CliResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
