/** `--with retry:times=2,delaySeconds=1` -> step decorator options applied to every step. */
import type { StepDecorators } from "../core/flow/registry.js";
import { UsageError } from "../core/errors.js";
import { cardOptions, QUEUE_NAME, resourcesOptions, retryOptions, timeoutOptions, type OptionProblem } from "../core/flow/decorators.js";

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
    const fail: OptionProblem = (problem) => {
      throw new UsageError(`--with ${spec}: ${problem}`);
    };
    const numbers = args as Record<string, number | undefined>;
    switch (name) {
      case "retry": out.retry = retryOptions(numbers, fail); break;
      case "catchError": out.catchError = { var: args.var as string | undefined, printException: args.printException !== false }; break;
      case "timeout": out.timeout = timeoutOptions(numbers, fail); break;
      case "resources": out.resources = resourcesOptions(numbers, fail); break;
      case "isolate": out.isolate = true; break;
      case "card": out.card = cardOptions(args, fail); break;
      case "remote":
        if (args.queue !== undefined && !QUEUE_NAME.test(String(args.queue))) fail(`queue "${args.queue}" may only hold letters, digits, '_', '.', '-'`);
        out.remote = { queue: args.queue === undefined ? undefined : String(args.queue) };
        break;
      default:
        throw new UsageError(`--with ${name}: unknown decorator`, { hint: "--with takes retry, catchError, timeout, resources, isolate, remote or card" });
    }
  }
  return out;
}
