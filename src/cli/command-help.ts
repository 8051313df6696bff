/**
 * `flowrun <command> --help`: each command's usage and options. Plain text kept apart from
 * the commands themselves so that asking for help loads no runtime, datastore or compiler.
 * Defaults and variable names come from src/core/config.ts, so the help says what the code does.
 */
import { DEFAULT_MAX_NUM_SPLITS, DEFAULT_MAX_WORKERS, DEFAULT_REDIS_URL, DEFAULT_RUNS_LIMIT, ENV_VARS } from "../core/config.js";

const { datastore, datastoreRoot, environmentCache, redisUrl } = ENV_VARS;

const READ_OPTIONS = `Datastore and namespace:
  --datastore local|s3           which datastore (${datastore.name}; default local)
  --datastore-root PATH|s3://B/P where (${datastoreRoot.name}; default the nearest .flowrun/ above)
  --namespace NS                 user:NAME, project:NAME, ... (default: user:<you>)
  --all-namespaces               everyone's runs`;

const RUN_OPTIONS = `Options:
  --max-workers N                tasks running at once (${DEFAULT_MAX_WORKERS})
  --max-num-splits N             most splits one foreach may make (${DEFAULT_MAX_NUM_SPLITS})
  --datastore local|s3           where artifacts and metadata go (${datastore.name}; default local)
  --datastore-root PATH|s3://B/P (${datastoreRoot.name}; default the nearest .flowrun/ above)
  --production                   production run: the @project branch is prod
  --branch NAME                  the @project branch test.NAME
  --tag T                        tag the run (repeatable)
  --with DECORATOR[:k=v,...]     apply a decorator to every step (repeatable); --with remote
                                 sends every step to the task queue (remote:queue=NAME)
  --redis URL                    the task queue's Redis (${redisUrl.name}; default ${DEFAULT_REDIS_URL})
  --isolate                      a fresh worker for every task
  --run-id-file FILE             write the run ID to FILE
  --quiet                        print only errors and the run ID
  --timings                      after the run, where its time went, phase by phase
  --debug                        stack traces of flowrun's own errors`;

export const COMMAND_HELP: Record<string, string> = {
  ui: `Usage: flowrun ui [--port 8324] [--host 127.0.0.1] [options]

Serves the web UI until stopped: runs (filter by flow, status, tag, namespace), a run's DAG
and timeline (live while it runs), tasks' output, artifacts and cards. Read-only; everything
comes from the datastore, local or S3, and from flowrun itself (no CDN).
  --port N                       the port (default 8324; 0 picks a free one)
  --host ADDRESS                 where to listen (default 127.0.0.1; another address warns:
                                 the UI has no login)
${READ_OPTIONS.split("\n").filter((line) => !line.includes("namespace")).join("\n")}`,
  card: `Usage: flowrun card view Flow/runId/step[/taskId] [--out FILE] [options]

Writes the task's card (current.card, @card) as one self-contained HTML file and prints its
path (default: Flow-runId-step-taskId.card.html here). A step with one task needs no task ID.
  --out FILE                     where to write it
${READ_OPTIONS.split("\n").filter((line) => !line.includes("namespace")).join("\n")}`,
  worker: `Usage: flowrun worker [--redis URL] [--queue NAME] [--concurrency N] --datastore s3 --datastore-root s3://B/P

Runs tasks of remote steps (\`--with remote\`, \`@remote\`) from the task queue until stopped,
each in a worker thread as a local run would, and commits them to the S3 datastore. Start
any number, on any machines. Ctrl-C takes no new task and lets running ones finish.
  --redis URL                    the queue's Redis (${redisUrl.name}; default ${DEFAULT_REDIS_URL})
  --queue NAME                   which queue to serve (default flowrun; @remote({ queue }) picks one)
  --concurrency N                tasks at once (default: the core count)
  --lock-seconds N               a task whose worker stops answering runs elsewhere after this (10)
  --datastore s3                 required: workers share the runs' datastore
  --datastore-root s3://B/P      the runs' datastore root (${datastoreRoot.name})`,
  workers: `Usage: flowrun workers [--redis URL] [--queue NAME]

Lists the task queue's live workers: host and pid, queue, concurrency, tasks running now, last heartbeat.
  --redis URL                    the queue's Redis (${redisUrl.name}; default ${DEFAULT_REDIS_URL})
  --queue NAME                   only this queue's workers`,
  run: `Usage: flowrun run <flow.ts> [--<param> value]... [options]

Runs the flow. \`flowrun <flow.ts> --help\` lists its parameters.

${RUN_OPTIONS}`,
  resume: `Usage: flowrun resume <flow.ts> [STEP] [--origin-run-id ID] [--force] [options]

Makes a new run that clones every task of the origin run that succeeded (default: your latest
run of this file) and runs the rest; with STEP, re-runs STEP and everything after it.
  --origin-run-id ID             the run to resume
  --force                        resume a run made from another file (you moved or renamed it)

${RUN_OPTIONS}`,
  check: `Usage: flowrun check <flow.ts>

Validates the graph and lints the flow without running any of its code. Exit 2 on an error.`,
  show: `Usage: flowrun show <flow.ts>

Prints the flow's steps, transitions, docstrings, decorators and parameters.`,
  "output-dot": `Usage: flowrun output-dot <flow.ts>

Prints the flow's graph as Graphviz DOT (\`flowrun output-dot f.ts | dot -Tpng > f.png\`).`,
  runs: `Usage: flowrun runs [FLOW] [--tag T]... [--status S] [--limit N] [options]

Lists runs in the current namespace, newest first.
  --tag T                        only runs having this tag (repeatable: all must match)
  --status S                     only runs that are running|succeeded|failed|cancelled|crashed
  --limit N                      show the N newest (${DEFAULT_RUNS_LIMIT})

${READ_OPTIONS}`,
  flows: `Usage: flowrun flows [options]

Lists the flows with a run in the current namespace, with their latest run.

${READ_OPTIONS}`,
  logs: `Usage: flowrun logs Flow/runId[/step[/taskId]] [--stdout | --stderr] [--attempt N] [options]

Prints the output of a task, of a step's tasks or of a run's tasks (stdout, then stderr).
A failed attempt's stderr ends with its error.
  --stdout                       only the output stream
  --stderr                       only the error stream
  --attempt N                    a task's attempt N (from 0) instead of its last

${READ_OPTIONS}`,
  dump: `Usage: flowrun dump Flow/runId[/step[/taskId]] [--artifact NAME] [--json] [options]
       flowrun dump Flow/runId[/step[/taskId]] --file NAME [--out PATH] [options]

Prints the artifacts of a run's end step, of a step's tasks or of one task.
  --artifact NAME                only this artifact, whole
  --json                         as JSON
  --file NAME                    the bytes of a file the task put (current.files.put): NAME is
                                 the artifact holding its FileRef, or the name it was put with
  --out PATH                     write the file there (default: standard output)

${READ_OPTIONS}`,
  tag: `Usage: flowrun tag add|remove Flow/runId TAG... [options]

Adds or removes user tags of a run (system tags user:, project:, project_branch:, runtime: cannot be changed).

${READ_OPTIONS}`,
  env: `Usage: flowrun env list [--json] | path ID | clean [--all | ID...] | types <flow.ts> [--out FILE]

Per-step dependency environments, cached in $XDG_CACHE_HOME/flowrun/envs, else ~/.cache/flowrun/envs
(${environmentCache.name} moves them).
  list [--json]                  the environments and their sizes
  path ID                        where an environment is
  clean [--all | ID...]          delete unused environments (or all, or these)
  types <flow.ts>                build the flow's environments and write tsconfig.flowrun-env.json
                                 (paths to their packages) beside the project's package.json,
                                 so tsc and the editor see the types of @dependencies packages
  --out FILE                     write the paths file there instead`,
  init: `Usage: flowrun init [DIR]

Makes a project in DIR (default: the current directory): package.json ("type": "module",
depending on flowrun), tsconfig.json that type-checks flows, tsconfig.flowrun-env.json (filled by
\`flowrun env types\`), flows/Hello.ts and .gitignore. Writes nothing if any of them exists.`,
};
