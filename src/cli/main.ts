#!/usr/bin/env node
/**
 * The `flowrun` command. Each command module loads only when used, so `flowrun check`
 * and `--help` do not pay for the worker pool or the datastore.
 */
import { FlowrunError } from "../core/errors.js";
import { DEFAULT_MAX_NUM_SPLITS, DEFAULT_MAX_WORKERS, dropLauncherSettings } from "../core/config.js";
import { COMMAND_HELP } from "./command-help.js";
import { didYouMean } from "./did-you-mean.js";

type Command = { run(args: string[]): Promise<number> };

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: () => import("./commands/run.js"),
  resume: () => import("./commands/resume.js"),
  check: () => import("./commands/check.js"),
  show: () => import("./commands/show.js"),
  "output-dot": () => import("./commands/output-dot.js"),
  runs: () => import("./commands/runs.js"),
  flows: () => import("./commands/flows.js"),
  logs: () => import("./commands/logs.js"),
  dump: () => import("./commands/dump.js"),
  tag: () => import("./commands/tag.js"),
  env: () => import("./commands/env.js"),
  init: () => import("./commands/init.js"),
  datastore: () => import("./commands/datastore.js"),
  worker: () => import("./commands/worker.js"),
  workers: () => import("./commands/workers.js"),
  ui: () => import("./commands/ui.js"),
  card: () => import("./commands/card.js"),
};

const USAGE = `flowrun — run TypeScript flows as DAGs with versioned artifacts

Usage:
  flowrun run <flow.ts> [--<param> value]... [options]   run a flow
  flowrun resume <flow.ts> [STEP] [--origin-run-id ID]   re-run a failed run, reusing what succeeded
  flowrun check <flow.ts>                                validate the graph and lint the flow
  flowrun show <flow.ts>                                 steps, transitions, parameters
  flowrun output-dot <flow.ts>                           the graph as Graphviz DOT
  flowrun runs [FLOW] [--tag T]... [--status S] [--limit N]   list runs, newest first
  flowrun flows                                          flows with runs, and their latest run
  flowrun logs PATHSPEC [--stderr]                       a task's (or step's) output
  flowrun dump PATHSPEC [--artifact NAME]                artifacts of a run, step or task
  flowrun tag add|remove PATHSPEC TAG...                 tag a run
  flowrun init [DIR]                                     a new project: package.json, tsconfig, flows/Hello.ts
  flowrun env list|path|clean|types                      dependency environments
  flowrun datastore backup DIR | verify                  copy or check the local datastore
  flowrun worker --redis URL --datastore s3 ...          run remote steps' tasks from the queue
  flowrun workers [--redis URL]                          the queue's live workers
  flowrun ui [--port 8324] [--host 127.0.0.1]            watch and inspect runs in the browser
  flowrun card view PATHSPEC [--out FILE]                a task's card as one HTML file
  flowrun <flow.ts> --help                               the flow's parameters
  flowrun <command> --help | --version                   a command's usage and options; flowrun's version

Run options: --max-workers N (${DEFAULT_MAX_WORKERS}) --max-num-splits N (${DEFAULT_MAX_NUM_SPLITS}) --datastore local|s3
  --datastore-root PATH|s3://bucket/prefix --production --branch NAME --tag T
  --with DECORATOR[:k=v,...] --isolate --run-id-file FILE --quiet --timings --debug --redis URL
Pathspecs: Flow/runId[/step[/taskId]]. Exit codes: 0 ok, 1 run failed, 2 bad usage or invalid flow.`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (!first || first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(`${USAGE}\n`);
    return first ? 0 : 2;
  }
  if (first === "--version") {
    process.stdout.write(`${(await import("../core/package-version.js")).packageVersion()}\n`);
    return 0;
  }
  if (/\.[cm]?[jt]sx?$/.test(first) && !COMMANDS[first]) {
    if (rest.includes("--help") || rest.includes("-h")) return (await import("./commands/flow-help.js")).run([first]);
    await startFirstWorker();
    return (await COMMANDS.run!()).run([first, ...rest]);
  }
  const load = COMMANDS[first];
  if (!load) {
    const suggestion = didYouMean(first, Object.keys(COMMANDS));
    process.stderr.write(`flowrun: unknown command "${first}" [FLOWRUN_ERR_USAGE]\n  hint: ${suggestion ? `${suggestion} ` : ""}one of ${Object.keys(COMMANDS).join(", ")}; flowrun --help lists them\n`);
    return 2;
  }
  // `flowrun run flow.ts --help` describes the flow; `flowrun run --help`, the command.
  const flowGiven = first === "run" && rest[0] !== undefined && !rest[0].startsWith("-");
  if (flowGiven && rest.slice(1).includes("--help")) return (await import("./commands/flow-help.js")).run([rest[0]!]);
  if (!flowGiven && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(`${COMMAND_HELP[first] ?? USAGE}\n`);
    return 0;
  }
  if (flowGiven || first === "resume") await startFirstWorker();
  return (await load()).run(rest);
}

let firstWorker: typeof import("../../runtime/executor/worker-threads.js") | undefined;

/** A run's first worker thread boots while the CLI loads the rest of itself (~0.1 s less to the first task). */
async function startFirstWorker(): Promise<void> {
  firstWorker = await import("../../runtime/executor/worker-threads.js");
  firstWorker.startFirstWorker();
}

dropLauncherSettings();

// `flowrun run ... | head`: once the reader is gone, keep running quietly instead of
// dying on EPIPE in the middle of a run.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

const debug = process.argv.includes("--debug");
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof FlowrunError) {
    process.stderr.write(`flowrun: ${error.oneLine()}\n`);
    if (debug) process.stderr.write(`${error.stack}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`flowrun: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
    process.stderr.write(debug ? `${(error as Error)?.stack}\n` : "  (run again with --debug for the stack trace)\n");
    process.exitCode = 1;
  }
} finally {
  await firstWorker?.stopUnusedFirstWorker();
}
