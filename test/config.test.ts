/**
 * Configuration is read in one place (src/core/config.ts): the README's table of environment
 * variables is that module's table written out, no other source names a `FLOWRUN_*`
 * variable, every cache follows one cache-root rule, and a bad value is one UsageError
 * naming the variable, with a hint.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join, relative, resolve } from "node:path";
import { describe, test } from "node:test";
import type TS from "typescript";
import ts from "../src/core/graph/typescript-api.js";
import { cacheDir, cacheRoot, config, ENV_VARS, parameterVariable, type CacheName, type EnvVar } from "../src/core/config.js";
import { UsageError } from "../src/core/errors.js";

const root = new URL("..", import.meta.url).pathname;

/** The README table's lines, as `ENV_VARS` makes them. */
function tableLines(): string[] {
  const cell = (text: string | undefined) => (text ? text.replace(/\|/g, "\\|") : "");
  return [
    "| Variable | Sets | Values | Default | Command line |",
    "| --- | --- | --- | --- | --- |",
    ...Object.values(ENV_VARS).map((v: EnvVar<unknown>) =>
      `| \`${v.name}\` | ${cell(v.sets)} | ${cell(v.values)} | ${cell(v.default)} | ${v.option ? `\`${v.option}\`` : ""} |`,
    ),
  ];
}

function readmeSection(heading: string): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README.md has no "## ${heading}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe("the README's environment variables", () => {
  test("are the table in src/core/config.ts: names, values, defaults and options", () => {
    const inReadme = readmeSection("Environment variables").split("\n").filter((line) => line.startsWith("|"));
    const expected = tableLines();
    assert.deepEqual(inReadme, expected, `README.md's "Environment variables" table differs from src/core/config.ts; it should read:\n\n${expected.join("\n")}\n`);
  });

  test("include every FLOWRUN_ variable the README mentions anywhere", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const declared = new Set(Object.values(ENV_VARS).map((v) => v.name));
    const parameterPrefix = parameterVariable("");
    for (const [name] of readme.matchAll(/FLOWRUN_(?!ERR_)[A-Z0-9_<>]+/g)) {
      assert.ok(declared.has(name) || name.startsWith(parameterPrefix), `README.md mentions ${name}, which src/core/config.ts does not declare`);
    }
  });
});

/** Every string literal, template text and property name (`env.X`) in a source file. */
function namesIn(file: string): Array<{ text: string; line: number }> {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found: Array<{ text: string; line: number }> = [];
  const add = (node: TS.Node, text: string) => found.push({ text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  const visit = (node: TS.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) add(node, node.text);
    if (ts.isPropertyAccessExpression(node)) add(node.name, node.name.text);
    node.forEachChild(visit);
  };
  visit(source);
  return found;
}

test("no source outside src/core/config.ts reads or names a FLOWRUN_ variable", () => {
  const files = ["src", "runtime"].flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
      .filter((name) => /\.(ts|mjs)$/.test(name))
      .map((name) => join(root, dir, name)),
  );
  assert.ok(files.length > 50);
  const offenders = files
    .filter((file) => file !== resolve(root, "src/core/config.ts"))
    .flatMap((file) => namesIn(file).filter(({ text }) => /FLOWRUN_(?!ERR)/.test(text)).map(({ line }) => `${relative(root, file)}:${line}`));
  assert.deepEqual(offenders, [], "read or name the variable through src/core/config.ts (config.*, ENV_VARS.*.name)");
});

test("src/core/config.ts is a bottom layer: it imports Node and the error classes only", () => {
  const source = ts.createSourceFile("config.ts", readFileSync(join(root, "src/core/config.ts"), "utf8"), ts.ScriptTarget.Latest);
  const imports = source.statements.filter(ts.isImportDeclaration).map((i) => (i.moduleSpecifier as TS.StringLiteral).text);
  assert.deepEqual(imports.filter((from) => !from.startsWith("node:") && from !== "./errors.js"), []);
});

describe("the cache root", () => {
  const home = join(homedir(), ".cache", "flowrun");
  const caches: CacheName[] = ["blobs", "envs", "graphs"];

  test("is $XDG_CACHE_HOME/flowrun for every cache", () => {
    const env = { XDG_CACHE_HOME: "/xdg" };
    assert.equal(cacheRoot(env), "/xdg/flowrun");
    for (const cache of caches) assert.equal(cacheDir(cache, env), `/xdg/flowrun/${cache}`);
    assert.equal(config.blobCacheDir(env), "/xdg/flowrun/blobs");
    assert.equal(config.environmentCacheDir(env), "/xdg/flowrun/envs");
    assert.equal(config.graphCacheDir(env), "/xdg/flowrun/graphs");
  });

  test("is ~/.cache/flowrun when XDG_CACHE_HOME is unset, empty or relative (the XDG spec ignores those)", () => {
    for (const env of [{}, { XDG_CACHE_HOME: "" }, { XDG_CACHE_HOME: "cache" }]) {
      assert.equal(cacheRoot(env), home, JSON.stringify(env));
      for (const cache of caches) assert.equal(cacheDir(cache, env), join(home, cache), `${cache} with ${JSON.stringify(env)}`);
    }
  });

  test("FLOWRUN_CACHE_DIR moves only the blob cache, FLOWRUN_ENV_CACHE only the environments", () => {
    const env = { XDG_CACHE_HOME: "/xdg", FLOWRUN_CACHE_DIR: "/blobs-here", FLOWRUN_ENV_CACHE: "/envs-here" };
    assert.equal(config.blobCacheDir(env), "/blobs-here");
    assert.equal(config.environmentCacheDir(env), "/envs-here");
    assert.equal(config.graphCacheDir(env), "/xdg/flowrun/graphs");
  });

  test("an empty FLOWRUN_CACHE_DIR or FLOWRUN_ENV_CACHE counts as unset", () => {
    const env = { XDG_CACHE_HOME: "/xdg", FLOWRUN_CACHE_DIR: "", FLOWRUN_ENV_CACHE: "" };
    assert.equal(config.blobCacheDir(env), "/xdg/flowrun/blobs");
    assert.equal(config.environmentCacheDir(env), "/xdg/flowrun/envs");
  });

  test("a relative cache directory is taken from the working directory, once", () => {
    assert.equal(config.blobCacheDir({ FLOWRUN_CACHE_DIR: "tmp/blobs" }), resolve("tmp/blobs"));
    assert.equal(config.environmentCacheDir({ FLOWRUN_ENV_CACHE: "tmp/envs" }), resolve("tmp/envs"));
  });
});

/** Runs `read` and returns its UsageError, which must print as one line and a hint. */
function usageError(read: () => unknown): UsageError {
  try {
    read();
  } catch (error) {
    assert.ok(error instanceof UsageError, `not a UsageError: ${String(error)}`);
    assert.match(error.oneLine(), /^[^\n]+\n {2}hint: [^\n]+$/);
    return error;
  }
  assert.fail("no error");
}

describe("reading a variable", () => {
  test("FLOWRUN_HEARTBEAT_SECONDS: seconds > 0, else 10", () => {
    assert.equal(config.heartbeatSeconds({}), 10);
    assert.equal(config.heartbeatSeconds({ FLOWRUN_HEARTBEAT_SECONDS: "" }), 10);
    assert.equal(config.heartbeatSeconds({ FLOWRUN_HEARTBEAT_SECONDS: "0.5" }), 0.5);
    for (const bad of ["soon", "0", "-1", "Infinity", " "]) {
      const error = usageError(() => config.heartbeatSeconds({ FLOWRUN_HEARTBEAT_SECONDS: bad }));
      assert.equal(error.message, `FLOWRUN_HEARTBEAT_SECONDS must be a positive number of seconds, got "${bad}"`);
      assert.equal(error.hint, "unset it to use 10");
    }
  });

  test("FLOWRUN_SLOW_TASK_SECONDS: seconds > 0, else 60", () => {
    assert.equal(config.slowTaskSeconds({}), 60);
    assert.equal(config.slowTaskSeconds({ FLOWRUN_SLOW_TASK_SECONDS: "" }), 60);
    assert.equal(config.slowTaskSeconds({ FLOWRUN_SLOW_TASK_SECONDS: "120" }), 120);
    for (const bad of ["soon", "0", "-5", "NaN"]) {
      const error = usageError(() => config.slowTaskSeconds({ FLOWRUN_SLOW_TASK_SECONDS: bad }));
      assert.equal(error.message, `FLOWRUN_SLOW_TASK_SECONDS=${bad} is not a number of seconds`);
      assert.match(error.hint!, /e\.g\. FLOWRUN_SLOW_TASK_SECONDS=120$/);
    }
  });

  test("FLOWRUN_DATASTORE: local or s3, else local; set but empty is an error", () => {
    assert.equal(config.datastore({}), "local");
    assert.equal(config.datastore({ FLOWRUN_DATASTORE: "s3" }), "s3");
    const unknown = usageError(() => config.datastore({ FLOWRUN_DATASTORE: "gcs" }));
    assert.equal(unknown.message, 'unknown datastore "gcs"');
    assert.equal(unknown.hint, "use --datastore local or --datastore s3 (or FLOWRUN_DATASTORE)");
    assert.equal(usageError(() => config.datastore({ FLOWRUN_DATASTORE: "" })).message, "FLOWRUN_DATASTORE is set but empty");
  });

  test("FLOWRUN_DATASTORE_ROOT: as given, else undefined (find .flowrun/); set but empty is an error", () => {
    assert.equal(config.datastoreRoot({}), undefined);
    assert.equal(config.datastoreRoot({ FLOWRUN_DATASTORE_ROOT: "s3://b/p" }), "s3://b/p");
    const empty = usageError(() => config.datastoreRoot({ FLOWRUN_DATASTORE_ROOT: "" }));
    assert.equal(empty.message, "FLOWRUN_DATASTORE_ROOT is set but empty");
    assert.match(empty.hint!, /unset it to use \.flowrun\//);
  });

  test("FLOWRUN_USER: as given; unset or empty, the OS user", () => {
    assert.equal(config.user({ FLOWRUN_USER: "alice" }), "alice");
    assert.equal(config.user({ FLOWRUN_USER: "" }), userInfo().username);
    assert.equal(config.user({}), userInfo().username);
  });

  test("FLOWRUN_RUN_<NAME>: upper case, - as _, an empty one sets nothing", () => {
    assert.equal(parameterVariable("topic-counts"), "FLOWRUN_RUN_TOPIC_COUNTS");
    const env = { FLOWRUN_RUN_TOPIC_COUNTS: "[8,16]", FLOWRUN_RUN_ALPHA: "", FLOWRUN_RUN_OTHER: "x" };
    assert.deepEqual(config.parameters(["topic-counts", "alpha", "beta"], env), { "topic-counts": "[8,16]" });
  });
});
