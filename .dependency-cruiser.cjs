// The allowed import directions between flowrun's layers (ARCHITECTURE.md draws them).
// `npm run check:layers` checks them, and test/layers.test.ts runs that in the suite.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "core-is-the-bottom",
      comment: "src/core (the flow API, the graph, errors, config) is imported by everything and imports none of it.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^(runtime/|src/(cli|client)/|src/(index|flow-api)\\.ts)" },
    },
    {
      name: "runtime-below-cli-and-client",
      comment: "runtime/ executes flows; the CLI and the client drive it, never the reverse.",
      severity: "error",
      from: { path: "^runtime/" },
      to: { path: "^src/(cli|client)/|^src/(index|flow-api)\\.ts" },
    },
    {
      name: "client-without-cli",
      comment: "The client is a library: it may show a run's progress as the CLI does, and uses nothing else of the CLI.",
      severity: "error",
      from: { path: "^src/client/" },
      to: { path: "^src/cli/", pathNot: "^src/cli/console-display\\.ts$" },
    },
    {
      name: "ui-reads-only",
      comment: "The web UI (src/ui) reads the datastore through metadata, content and the client; it runs nothing and knows no command.",
      severity: "error",
      from: { path: "^src/ui/" },
      to: { path: "^runtime/(scheduler|executor|worker|environments|resume|remote|compile)/|^runtime/run-flow\\.ts|^src/cli/" },
    },
    {
      name: "client-below-ui",
      comment: "The client library does not serve pages.",
      severity: "error",
      from: { path: "^src/(client|core)/|^runtime/" },
      to: { path: "^src/ui/" },
    },
    {
      name: "datastore-is-storage-only",
      comment: "runtime/datastore stores bytes and records; what they mean (runs, tasks) is runtime/metadata's.",
      severity: "error",
      from: { path: "^runtime/datastore/" },
      to: { path: "^runtime/(?!datastore/)" },
    },
    {
      name: "metadata-below-execution",
      comment: "runtime/metadata is read by everything that executes, and knows nothing about executing.",
      severity: "error",
      from: { path: "^runtime/metadata/" },
      to: { path: "^runtime/(environments|resume|worker|executor|scheduler)/|^runtime/run-flow\\.ts" },
    },
    {
      name: "workers-and-executors-below-the-scheduler",
      comment: "A task worker and the executors that host it are driven by the scheduler and do not know it.",
      severity: "error",
      from: { path: "^runtime/(worker|executor|environments|resume)/" },
      to: { path: "^runtime/scheduler/|^runtime/run-flow\\.ts" },
    },
    {
      name: "worker-apart-from-executor",
      comment: "The worker thread's code and the executors meet only in runtime/protocol.ts.",
      severity: "error",
      from: { path: "^runtime/worker/" },
      to: { path: "^runtime/executor/" },
    },
    {
      name: "no-cycles",
      comment: "A cycle ties two modules into one concept: split it, or merge them.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(dist|test|bench|flows)/" },
  },
};
