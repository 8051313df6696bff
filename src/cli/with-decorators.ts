/** `--with retry:times=2,delaySeconds=1` -> step decorator options applied to every step. */
import type { StepDecorators } from "../flow/registry.js";
import { UsageError } from "../errors.js";

const NUMERIC = new Set(["times", "delaySeconds", "seconds", "minutes", "hours", "cpu", "memory"]);

export function parseWithDecorators(specs: string[]): StepDecorators {
  const out: StepDecorators = {};
  for (const spec of specs) {
    const [name, rest = ""] = spec.split(/:(.*)/s) as [string, string?];
    const args: Record<string, string | number | boolean> = {};
    for (const pair of rest.split(",").filter(Boolean)) {
      const [key, value] = pair.split("=") as [string, string?];
      if (value === undefined) throw new UsageError(`--with ${spec}: expected key=value, got "${pair}"`);
      args[key] = NUMERIC.has(key) ? Number(value) : value === "true" ? true : value === "false" ? false : value;
      if (typeof args[key] === "number" && !Number.isFinite(args[key])) throw new UsageError(`--with ${spec}: ${key} must be a number`);
    }
    switch (name) {
      case "retry": out.retry = { times: Number(args.times ?? 3), delaySeconds: Number(args.delaySeconds ?? 0) }; break;
      case "catchError": out.catchError = { var: args.var as string | undefined, printException: args.printException !== false }; break;
      case "timeout": out.timeout = { seconds: Number(args.seconds ?? 0) + Number(args.minutes ?? 0) * 60 + Number(args.hours ?? 0) * 3600 }; break;
      case "resources": out.resources = { cpu: args.cpu as number | undefined, memory: args.memory as number | undefined }; break;
      case "isolate": out.isolate = true; break;
      default:
        throw new UsageError(`--with ${name}: unknown decorator`, { hint: "--with takes retry, catchError, timeout, resources or isolate" });
    }
  }
  return out;
}
