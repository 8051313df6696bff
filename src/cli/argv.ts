/**
 * A small command-line reader: `--name value`, `--name=value`, `--flag`, `--no-flag`,
 * repeated options, positionals. Which names take a value is declared by the command, so
 * a flow parameter named like a flag is still read right.
 */
import { UsageError } from "../core/errors.js";

export interface OptionSpec {
  /** Takes a value (`--max-workers 4`); otherwise a boolean flag. */
  value?: boolean;
  repeat?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | boolean | string[]>;
  /** Options not in the spec, in order (flow parameters, for `run`). */
  extra: Array<{ name: string; value: string | boolean }>;
}

export function parseArgv(argv: string[], spec: Record<string, OptionSpec>, extraTakesValue?: (name: string) => boolean | undefined): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], options: {}, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | boolean | undefined = eq > 0 ? arg.slice(eq + 1) : undefined;
    const option = spec[name];
    const negated = !option && name.startsWith("no-") && (spec[name.slice(3)] || extraTakesValue?.(name.slice(3)) === false);
    if (negated) {
      name = name.slice(3);
      if (value !== undefined) throw new UsageError(`--no-${name} takes no value`);
      value = false;
    }
    const takesValue = negated ? false : option ? option.value === true : extraTakesValue?.(name);
    if (value === undefined) {
      const following = argv[i + 1];
      const canConsume = following !== undefined && !following.startsWith("--");
      if (takesValue === true || (takesValue === undefined && canConsume)) {
        if (!canConsume) throw new UsageError(`--${name} needs a value`);
        value = following!;
        i++;
      } else {
        value = true;
      }
    }
    if (spec[name]) {
      if (spec[name]!.repeat) ((parsed.options[name] ??= []) as string[]).push(String(value));
      else parsed.options[name] = value;
    } else {
      parsed.extra.push({ name, value });
    }
  }
  return parsed;
}

export function intOption(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const raw = args.options[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const raw = args.options[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string") throw new UsageError(`--${name} needs a value`);
  return raw;
}

/** For a command that takes options only: the first positional or unknown option is a UsageError. */
export function rejectArguments(args: ParsedArgs, command: string): void {
  const first = args.positionals[0] ?? (args.extra[0] && `--${args.extra[0].name}`);
  if (first !== undefined) throw new UsageError(`unexpected argument "${first}"`, { hint: `flowrun ${command} --help lists its options` });
}
