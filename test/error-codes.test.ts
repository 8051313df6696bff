/**
 * Error codes are a contract: every code the code can throw is documented in docs/errors.md
 * with what to do, every documented code exists, and an error keeps its code and cause
 * across the worker-thread boundary.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as flowrun from "../src/index.js";
import { DatastoreError, FlowrunError, rehydrateError, serializeError } from "../src/core/errors.js";

const root = new URL("..", import.meta.url).pathname;
const docs = readFileSync(join(root, "docs/errors.md"), "utf8");

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8"));
}

/** The documented section of each code: `## CODE` up to the next heading. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of docs.split(/^## /m).slice(1)) {
    const [heading, ...body] = part.split("\n");
    out.set(heading!.trim(), body.join("\n"));
  }
  return out;
}

test("every error code in the code is documented, and every documented code exists", () => {
  const inCode = new Set(
    [...sources("src"), ...sources("runtime")].flatMap((text) => [...text.matchAll(/readonly code(?:: string)? = "(FLOWRUN_ERR\w*)"/g)].map((m) => m[1]!)),
  );
  assert.ok(inCode.size >= 10, `found only ${[...inCode].join(", ")}`);
  assert.deepEqual([...sections().keys()].sort(), [...inCode].sort());
});

test("each exported error class is named in its code's section, with what to do", () => {
  const documented = sections();
  const classes = Object.entries(flowrun).filter(
    ([, value]) => typeof value === "function" && (value === FlowrunError || Object.prototype.isPrototypeOf.call(FlowrunError.prototype, value.prototype)),
  ) as Array<[string, new (message: string) => FlowrunError]>;
  assert.ok(classes.length >= 10);
  for (const [name, ErrorClass] of classes) {
    const section = documented.get(new ErrorClass("x").code);
    assert.ok(section, `${name}: its code is not in docs/errors.md`);
    assert.match(section, new RegExp(`\`${name}\``), `${name} is not named in its section`);
    assert.match(section, /What to do:|Please report/, `${name}'s section does not say what to do`);
  }
});

test("an error keeps its class, code, hint and cause across a thread boundary", () => {
  const inner = Object.assign(new Error("EACCES: permission denied, open '/data/x'"), { code: "EACCES" });
  const outer = new DatastoreError("local datastore /data is not writable", { hint: "fix its permissions", cause: inner });
  const back = rehydrateError(structuredClone(serializeError(outer)));
  assert.ok(back instanceof DatastoreError);
  assert.equal((back as DatastoreError).code, "FLOWRUN_ERR_DATASTORE");
  assert.equal((back as DatastoreError).hint, "fix its permissions");
  assert.ok(back.cause instanceof Error);
  assert.equal(back.cause.message, inner.message);
  assert.equal((back.cause as { code?: string }).code, "EACCES");
});

test("a cause chain that loops is cut, not followed forever", () => {
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  let depth = 0;
  for (let e: { cause?: unknown } | undefined = serializeError(a); e; e = e.cause as typeof e) depth++;
  assert.ok(depth > 1 && depth <= 9, `depth ${depth}`);
});
