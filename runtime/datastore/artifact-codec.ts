/**
 * Artifact values <-> bytes. Artifacts must be plain data (SPEC section 3); `checkPlainData`
 * walks the value once, rejects what msgpack would silently change (functions, class
 * instances, symbols, promises, cycles, nesting deeper than MAX_DEPTH) with the path of the
 * offending value, and tells the encoder whether the value holds anything msgpackr needs
 * help with (Map, -0, an own `__proto__` key, which msgpackr renames, or a string with a
 * lone surrogate, which UTF-8 cannot hold), so the common case is encoded without a copy.
 *
 * A top-level typed array or Buffer is stored as its raw bytes (`encoding: "raw:<Type>"`):
 * no encoding pass at all, which is what makes a 100 MB Float64Array cheap to store.
 */
import { msgpackr } from "./commonjs-packages.js";
import { ArtifactError } from "../../src/core/errors.js";

const { addExtension, Packr } = msgpackr;

/**
 * Map, and objects with an own `__proto__` key or a key with a lone surrogate, travel as
 * entry lists under these extensions.
 */
class MapEntries {
  constructor(readonly entries: Array<[unknown, unknown]>) {}
}
class KeyedEntries {
  constructor(readonly entries: Array<[unknown, unknown]>) {}
}
/** Not well-formed UTF-16 (a lone surrogate): stored as its UTF-16 code units, since UTF-8 would replace it. */
class CodeUnits {
  constructor(readonly text: string) {}
}
/** msgpack has no -0: msgpackr writes it as the integer 0. */
class NegativeZero {}
const NEGATIVE_ZERO = new NegativeZero();
addExtension({ Class: NegativeZero, type: 0x5a, write: () => 0, read: () => -0 });
addExtension({
  Class: CodeUnits,
  type: 0x55,
  write: (s: CodeUnits) => Buffer.from(s.text, "utf16le"),
  read: (units: Uint8Array) => Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString("utf16le"),
});
addExtension({ Class: MapEntries, type: 0x4d, write: (m: MapEntries) => m.entries, read: (e: Array<[unknown, unknown]>) => new Map(e) });
addExtension({
  Class: KeyedEntries,
  type: 0x4b,
  write: (o: KeyedEntries) => o.entries,
  read(entries: Array<[string, unknown]>) {
    // defineProperty, not assignment: a `__proto__` key stays data and never sets the prototype.
    const object: Record<string, unknown> = {};
    for (const [key, value] of entries) {
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return object;
  },
});

/**
 * Containers may nest this deep. msgpackr encodes and decodes recursively: a worker (4 MB
 * stack) writes any kind of value this deep with room to spare, and the client's main
 * thread (under 1 MB) reads nested Maps, the costliest kind, past 1,000 levels (not 1,500).
 */
export const MAX_DEPTH = 1000;

const packr = new Packr({ moreTypes: true, useRecords: false, int64AsType: "bigint" });

const TYPED_ARRAYS = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

export interface EncodedArtifact {
  /** `msgpack`, or `raw:<TypedArray name>` / `raw:Buffer` for a top-level binary value. */
  encoding: string;
  bytes: Uint8Array;
}

interface Walk {
  needsTransform: boolean;
}

function describePath(path: string[]): string {
  // A path as deep as MAX_DEPTH would not fit on a line: its start and end say where it is.
  if (path.length > 16) return `${describePath(path.slice(0, 8))}…${describePath(path.slice(-4)).slice("this".length)}`;
  return path.reduce((acc, part) => {
    if (/^[A-Za-z_$][\w$]*$/.test(part)) return `${acc}.${part}`;
    return /^\d+$/.test(part) ? `${acc}[${part}]` : `${acc}[${JSON.stringify(part)}]`;
  }, "this");
}

function reject(path: string[], what: string): never {
  throw new ArtifactError(`${describePath(path)} ${what}; artifacts must be plain data`, {
    hint: "store plain values (numbers, strings, arrays, plain objects, Map, Set, typed arrays); keep other objects in fields starting with '_'",
  });
}

/** A getter that throws while the value is stored: the artifact cannot be stored as it is. */
export function unreadable(path: string[], error: unknown): ArtifactError {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new ArtifactError(`${describePath(path)} threw when read to store it (${reason})`, {
    hint: "a getter's value is stored when the step ends: make it return plain data, or name the field with a leading '_'",
  });
}

function isPlainPrototype(proto: unknown): boolean {
  return proto === Object.prototype || proto === null;
}

/** Throws ArtifactError naming the path (`this.model.predict is a function`) for non-plain data. */
export function checkPlainData(value: unknown, name: string): Walk {
  const walk: Walk = { needsTransform: false };
  const ancestors = new Set<object>();
  const path = [name];
  const visit = (v: unknown): void => {
    switch (typeof v) {
      case "function": return reject(path, v.toString().startsWith("class ") ? "is a class" : "is a function");
      case "symbol": return reject(path, "is a symbol");
      case "number":
        if (Object.is(v, -0)) walk.needsTransform = true;
        return;
      case "string":
        if (!v.isWellFormed()) walk.needsTransform = true;
        return;
      case "object": break;
      default: return;
    }
    if (v === null) return;
    if (ancestors.has(v)) return reject(path, "refers back to one of its own containers (a cycle)");
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date) return;
    if (path.length > MAX_DEPTH) return reject(path, `is nested ${path.length} levels deep, more than the ${MAX_DEPTH} an artifact may have`);
    if (v instanceof Promise || typeof (v as { then?: unknown }).then === "function") {
      return reject(path, "is a Promise (did you forget `await`?)");
    }
    ancestors.add(v);
    if (Array.isArray(v)) {
      if (!isPlainPrototype(Object.getPrototypeOf(Object.getPrototypeOf(v)))) reject(path, "is an instance of a subclass of Array");
      v.forEach((item, i) => {
        path.push(String(i));
        visit(item);
        path.pop();
      });
    } else if (v instanceof Map) {
      walk.needsTransform = true;
      for (const [key, item] of v) {
        path.push(`<key ${String(key)}>`);
        visit(key);
        path.pop();
        path.push(String(key));
        visit(item);
        path.pop();
      }
    } else if (v instanceof Set) {
      for (const item of v) {
        path.push("<element>");
        visit(item);
        path.pop();
      }
    } else {
      const proto = Object.getPrototypeOf(v);
      if (!isPlainPrototype(proto)) {
        const ctor = (proto as { constructor?: { name?: string } }).constructor?.name;
        reject(path, ctor ? `is an instance of class ${ctor}` : "is not a plain object");
      }
      for (const key of Object.keys(v)) {
        if (key === "__proto__" || !key.isWellFormed()) walk.needsTransform = true;
        path.push(key);
        visit((v as Record<string, unknown>)[key]);
        path.pop();
      }
      if (Object.getOwnPropertySymbols(v).length > 0) reject(path, "has symbol keys");
    }
    ancestors.delete(v);
  };
  try {
    visit(value);
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    // Only an own getter runs user code during the walk, and `path` still ends at its name.
    throw unreadable(path, error);
  }
  return walk;
}

/** A copy where Maps, `__proto__` or lone-surrogate keyed objects, such strings and -0 are wrapped for their msgpack extensions. */
function wrapForEncoding(v: unknown): unknown {
  if (Object.is(v, -0)) return NEGATIVE_ZERO;
  if (typeof v === "string") return v.isWellFormed() ? v : new CodeUnits(v);
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date) return v;
  if (Array.isArray(v)) return v.map(wrapForEncoding);
  if (v instanceof Map) return new MapEntries([...v].map(([k, x]) => [wrapForEncoding(k), wrapForEncoding(x)]));
  if (v instanceof Set) return new Set([...v].map(wrapForEncoding));
  const keys = Object.keys(v);
  const values = keys.map((k) => wrapForEncoding((v as Record<string, unknown>)[k]));
  if (keys.some((k) => k === "__proto__" || !k.isWellFormed())) return new KeyedEntries(keys.map((k, i) => [wrapForEncoding(k), values[i]]));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}

export function encodeArtifact(name: string, value: unknown): EncodedArtifact {
  if (Buffer.isBuffer(value)) return { encoding: "raw:Buffer", bytes: value };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const type = value.constructor.name as TypedArrayName;
    if (type in TYPED_ARRAYS) {
      return { encoding: `raw:${type}`, bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
    }
  }
  const walk = checkPlainData(value, name);
  return { encoding: "msgpack", bytes: packr.pack(walk.needsTransform ? wrapForEncoding(value) : value) };
}

/**
 * `owned`: `bytes` is a buffer of its own (offset 0, nobody else holds it), so a binary
 * value may use it in place; otherwise it is copied (it may be a view at any offset).
 */
export function decodeArtifact(encoding: string, bytes: Uint8Array, owned = false): unknown {
  // As a Buffer, so msgpackr gives nested binary values back as Buffers, as they were stored.
  if (encoding === "msgpack") {
    try {
      return packr.unpack(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      // Written before MAX_DEPTH was enforced, or read from deep in the caller's own stack.
      if (error instanceof RangeError) {
        throw new ArtifactError(`the artifact is nested too deeply to read on this thread (${error.message})`, {
          hint: "read it with a larger stack: node --stack-size=4000 ...",
        });
      }
      throw error;
    }
  }
  const own = owned && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  if (encoding === "raw:Buffer") return Buffer.from(own.buffer as ArrayBuffer, 0, own.byteLength);
  const type = encoding.startsWith("raw:") ? TYPED_ARRAYS[encoding.slice(4) as TypedArrayName] : undefined;
  if (!type) throw new ArtifactError(`unknown artifact encoding "${encoding}"`, { hint: "upgrade flowrun to read this datastore" });
  return new type(own.buffer as ArrayBuffer, 0, own.byteLength / type.BYTES_PER_ELEMENT);
}
