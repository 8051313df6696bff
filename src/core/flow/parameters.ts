/**
 * `Parameter` and `IncludeFile` are written as class fields. At definition time they return
 * a descriptor (a branded plain object); before each task the runtime replaces the field
 * with the run's value. Their declared return type is the value's type, so
 * `this.nTopics` is a `number` in the step body.
 */
import { PARAMETER_BRAND } from "./registry.js";

/** Marks a parameter whose value is parsed as JSON from the command line. */
export const JSONType = Object.freeze({ name: "JSONType" as const });
export type JSONTypeMarker = typeof JSONType;

type ParameterType = StringConstructor | NumberConstructor | BooleanConstructor | JSONTypeMarker;
type ValueOf<C> = C extends NumberConstructor
  ? number
  : C extends BooleanConstructor
    ? boolean
    : C extends StringConstructor
      ? string
      : any;

interface CommonOptions {
  /** Shown by `flowrun <flow.ts> --help`. */
  help?: string;
  /** Fail before the run starts when no value is given. */
  required?: boolean;
}

export type ParameterTypeName = "String" | "Number" | "Boolean" | "JSONType";

/** A parameter's name is also its command-line option, `--name`. */
export const PARAMETER_NAME = /^[a-z][a-z0-9-_]*$/i;

/** The options of `flowrun run` (the CLI's RUN_OPTIONS has exactly these keys). */
export const RUN_OPTION_NAMES = [
  "production", "branch", "tag", "max-workers", "max-num-splits", "datastore", "datastore-root",
  "with", "run-id-file", "quiet", "isolate", "debug", "timings", "redis",
] as const;

/** Names a parameter cannot have: the run or resume option of that name would always win. */
export const RESERVED_PARAMETER_NAMES: readonly string[] = [...RUN_OPTION_NAMES, "origin-run-id", "help"];

export interface ParameterDescriptor {
  readonly [PARAMETER_BRAND]: true;
  readonly kind: "Parameter" | "IncludeFile";
  readonly name: string;
  readonly type?: ParameterTypeName;
  readonly default?: unknown;
  readonly help?: string;
  readonly required: boolean;
  /** Splits a string value (given or default) into an array of strings, as Metaflow's `separator`. */
  readonly separator?: string;
}

export function Parameter(
  name: string,
  options: CommonOptions & { separator: string; type?: StringConstructor; default?: string | (() => string) },
): string[];
export function Parameter<C extends ParameterType>(
  name: string,
  options: CommonOptions & { type: C; default?: ValueOf<C> | (() => ValueOf<C>) },
): ValueOf<C>;
export function Parameter<T>(name: string, options: CommonOptions & { default: T | (() => T) }): T;
export function Parameter(name: string, options?: CommonOptions): string;
export function Parameter(
  name: string,
  options: CommonOptions & { type?: ParameterType; default?: unknown; separator?: string } = {},
): unknown {
  if (!PARAMETER_NAME.test(name)) {
    throw new TypeError(`Parameter name "${name}" must start with a letter and hold only letters, digits, '-' and '_'`);
  }
  if (options.separator !== undefined && !isStringParameter(options)) {
    throw new TypeError(`Parameter "${name}": a separator is only allowed for string parameters`);
  }
  const descriptor: ParameterDescriptor = {
    [PARAMETER_BRAND]: true,
    kind: "Parameter",
    name,
    type: options.type?.name as ParameterTypeName | undefined,
    default: options.default,
    help: options.help,
    required: options.required ?? false,
    separator: options.separator || undefined,
  };
  return descriptor;
}

/** Callable defaults count: what they return is checked when the run splits it. */
function isStringParameter(options: { type?: ParameterType; default?: unknown }): boolean {
  return (options.type === undefined || options.type === String) && ["undefined", "string", "function"].includes(typeof options.default);
}

/** A local file whose content (UTF-8 text) is stored as an artifact when the run starts. */
export function IncludeFile(name: string, options: CommonOptions & { default?: string } = {}): string {
  const descriptor: ParameterDescriptor = {
    [PARAMETER_BRAND]: true,
    kind: "IncludeFile",
    name,
    type: "String",
    default: options.default,
    help: options.help,
    required: options.required ?? false,
  };
  return descriptor as unknown as string;
}

export function isParameterDescriptor(value: unknown): value is ParameterDescriptor {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PARAMETER_BRAND] === true;
}
