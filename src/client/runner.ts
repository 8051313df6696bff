/**
 * Runs a flow from code, in this process's worker threads, and returns the finished `Run`.
 * The runtime (worker pools, the TypeScript parser) loads on the first `run()`: flows
 * import "flowrun" in every worker, and must not pay for it.
 */
import type { DatastoreConfig } from "../core/datastore-config.js";
import type { StepDecorators } from "../core/flow/registry.js";
import { DEFAULT_MAX_NUM_SPLITS, DEFAULT_MAX_WORKERS } from "../core/config.js";
import { datastoreConfig } from "../core/datastore-config.js";
import { Run } from "./objects.js";
import { namespace, getNamespace } from "./namespace.js";

export interface RunnerOptions {
  /** @default the one `flowrun run` would use: flags aside, FLOWRUN_DATASTORE* or the nearest `.flowrun/` */
  datastore?: DatastoreConfig;
  /** Tasks running at once. @default {@link DEFAULT_MAX_WORKERS} */
  maxWorkers?: number;
  /** The most splits one foreach may make. @default {@link DEFAULT_MAX_NUM_SPLITS} */
  maxNumSplits?: number;
  production?: boolean;
  branch?: string;
  tags?: string[];
  with?: StepDecorators;
  /** Print progress like the CLI (default: quiet). */
  showProgress?: boolean;
}

export class Runner {
  constructor(readonly flowFile: string, private readonly options: RunnerOptions = {}) {}

  /** Runs the flow with these parameter values (`{ alpha: 0.5, "test-mode": true }`). */
  async run(parameters: Record<string, string | number | boolean | object> = {}): Promise<Run> {
    const datastore = this.options.datastore ?? datastoreConfig();
    const rawParameters = Object.fromEntries(
      Object.entries(parameters).map(([k, v]) => [k, typeof v === "boolean" || typeof v === "string" ? v : JSON.stringify(v)]),
    );
    const { runFlow } = await import("../../runtime/run-flow.js");
    const { ConsoleDisplay } = await import("../cli/console-display.js");
    const result = await runFlow({
      flowFile: this.flowFile,
      rawParameters,
      datastore,
      maxWorkers: this.options.maxWorkers ?? DEFAULT_MAX_WORKERS,
      maxNumSplits: this.options.maxNumSplits ?? DEFAULT_MAX_NUM_SPLITS,
      production: this.options.production ?? false,
      branch: this.options.branch,
      tags: this.options.tags ?? [],
      withDecorators: this.options.with ?? {},
      observer: new ConsoleDisplay(!this.options.showProgress),
    });
    // The run is read back whatever the namespace, since the caller just made it.
    const previous = getNamespace();
    namespace(null);
    try {
      return await Run.get(`${result.flow}/${result.runId}`, { datastore });
    } finally {
      namespace(previous);
    }
  }
}
