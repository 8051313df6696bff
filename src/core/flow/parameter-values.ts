/**
 * Turns command-line (and FLOWRUN_RUN_*) strings into parameter values (run start, inside a
 * worker, after `current` is set so callable defaults can read it). Every mistake is a
 * ParameterError naming the flag and what is expected.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ParameterError } from "../errors.js";
import { isParameterDescriptor, type ParameterDescriptor, type ParameterTypeName } from "./parameters.js";

export interface DeclaredParameter {
  field: string;
  descriptor: ParameterDescriptor;
}

/** The Parameter/IncludeFile fields of a freshly constructed flow object. */
export function declaredParameters(flow: object): DeclaredParameter[] {
  return Object.entries(flow)
    .filter(([, value]) => isParameterDescriptor(value))
    .map(([field, value]) => ({ field, descriptor: value as ParameterDescriptor }));
}

function typeOfValue(value: unknown): ParameterTypeName {
  switch (typeof value) {
    case "number": return "Number";
    case "boolean": return "Boolean";
    case "string": return "String";
    default: return "JSONType";
  }
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

export function coerceParameter(name: string, type: ParameterTypeName, raw: string | boolean): unknown {
  if (type === "Boolean") {
    if (typeof raw === "boolean") return raw;
    const lowered = raw.toLowerCase();
    if (TRUE.has(lowered)) return true;
    if (FALSE.has(lowered)) return false;
    throw new ParameterError(`--${name}: "${raw}" is not a boolean`, { hint: `use --${name}, --no-${name} or --${name}=true|false` });
  }
  if (typeof raw === "boolean") {
    throw new ParameterError(`--${name} needs a value`, { hint: `pass --${name} VALUE (a ${type === "JSONType" ? "JSON value" : type.toLowerCase()})` });
  }
  if (type === "Number") {
    const value = raw.trim() === "" ? NaN : Number(raw);
    if (!Number.isFinite(value)) throw new ParameterError(`--${name}: "${raw}" is not a number`, { hint: `pass a number, e.g. --${name} 0.5` });
    return value;
  }
  if (type === "JSONType") {
    try {
      return JSON.parse(raw);
    } catch (error) {
      throw new ParameterError(`--${name}: invalid JSON (${(error as Error).message})`, { hint: `quote it for the shell, e.g. --${name} '{"a": 1}'` });
    }
  }
  return raw;
}

export interface ResolvedParameter {
  field: string;
  name: string;
  value: unknown;
}

/** Values for every declared parameter: from `raw` when given, else the (evaluated) default. */
export function resolveParameterValues(declared: DeclaredParameter[], raw: Record<string, string | boolean>): ResolvedParameter[] {
  const known = new Set(declared.map((p) => p.descriptor.name));
  const unknown = Object.keys(raw).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ParameterError(`unknown parameter --${unknown[0]}`, {
      hint: known.size > 0 ? `this flow's parameters: ${[...known].map((n) => `--${n}`).join(", ")}` : "this flow takes no parameters",
    });
  }
  return declared.map(({ field, descriptor }) => {
    const { name } = descriptor;
    let value = name in raw ? coerceParameter(name, parameterType(descriptor), raw[name]!) : defaultValue(descriptor);
    if (descriptor.kind === "IncludeFile" && typeof value === "string") value = readIncludedFile(name, value);
    if (descriptor.separator !== undefined) value = split(name, descriptor.separator, value);
    return { field, name, value: value === undefined ? null : value };
  });
}

function parameterType(descriptor: ParameterDescriptor): ParameterTypeName {
  if (descriptor.type) return descriptor.type;
  const { default: given } = descriptor;
  if (typeof given === "function") return typeOfValue((given as () => unknown)());
  return given === undefined ? "String" : typeOfValue(given);
}

/** A string default of a declared non-string type is parsed like a command-line value, as click does. */
function defaultValue(descriptor: ParameterDescriptor): unknown {
  const { name, type } = descriptor;
  const value = typeof descriptor.default === "function" ? (descriptor.default as () => unknown)() : descriptor.default;
  if (value === undefined && descriptor.required) {
    throw new ParameterError(`missing required parameter --${name}`, { hint: descriptor.help ? `--${name}: ${descriptor.help}` : `pass --${name} VALUE` });
  }
  if (typeof value !== "string" || type === undefined || type === "String") return value;
  try {
    return coerceParameter(name, type, value);
  } catch (error) {
    throw new ParameterError(`the default of --${name}, ${JSON.stringify(value)}, is not a valid ${type} value`, {
      hint: `fix the default in Parameter("${name}", ...) or pass --${name}`,
      cause: error,
    });
  }
}

/** Metaflow's `separator`: a non-empty string becomes an array of strings; no value stays none. */
function split(name: string, separator: string, value: unknown): unknown {
  if (value === undefined || value === null || value === "") return value;
  if (typeof value !== "string") {
    throw new ParameterError(`--${name} has a separator but its value is a ${typeof value}, not a string`, {
      hint: `make the default of --${name} a string such as "a${separator}b"`,
    });
  }
  return value.split(separator);
}

function readIncludedFile(name: string, path: string): string {
  try {
    return readFileSync(resolve(path), "utf8");
  } catch (error) {
    throw new ParameterError(`--${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      hint: "pass the path of an existing file",
    });
  }
}
