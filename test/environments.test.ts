// Per-step dependency environments: built once per package set, reused, safe under
// concurrent and interrupted builds, and each one seen by a worker thread through
// flowrun's resolve hooks. npm runs for real, against a registry served by the test
// (test/fixtures/packages/fixture-registry.ts); nothing reaches the public registry.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import { ensureEnvironment } from "../runtime/environments/environment-builder.js";
import { MARKER, listEnvironments, listLeftovers, publish, readMarker } from "../runtime/environments/environment-cache.js";
import { EnvironmentError } from "../src/core/errors.js";
import { summarizeNpmError } from "../runtime/environments/npm-error-summary.js";
import { environmentId, installSet, mergeDependencies } from "../runtime/environments/environment-spec.js";
import type { Installer } from "../runtime/environments/installer.js";
import { npmInstaller } from "../runtime/environments/npm-installer.js";
import { run as envCommand } from "../src/cli/commands/env.js";
import { compileFlow } from "../runtime/compile/flow-compiler.js";
import { packFixtures, startRegistry, type FixturePackage, type FixtureRegistry } from "./fixtures/packages/fixture-registry.js";

const WORKER = new URL("./fixtures/env-import-worker.mjs", import.meta.url);
const BUILDER = new URL("../runtime/environments/environment-builder.ts", import.meta.url).pathname;
const REPO = new URL("..", import.meta.url).pathname;

let work: string;
let packs: Record<string, FixturePackage>;
let registry: FixtureRegistry;
let roots = 0;
const freshRoot = () => join(work, `envs-${++roots}`);

before(async () => {
  work = await mkdtemp(join(tmpdir(), "flowrun-envs-"));
  packs = await packFixtures(work, ["fr-greeter-1.0.0", "fr-greeter-2.0.0", "fr-helper-1.0.0", "fr-helper-1.1.0"]);
  registry = await startRegistry([packs["fr-greeter@1.0.0"]!, packs["fr-greeter@2.0.0"]!, packs["fr-helper@1.0.0"]!]);
  // Inherited by every npm the builder spawns, in this process and in child processes.
  Object.assign(process.env, registry.npmEnv(work));
});

after(async () => {
  await registry?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface WorkerReport {
  ok: boolean;
  exports?: string[];
  result?: string;
  code?: string;
}

/** Imports fr-greeter as a step with `envDir` as its environment would: from a module compiled for it. */
async function importInWorker(envDir: string | undefined, call: string, args: string[] = []): Promise<WorkerReport> {
  const probe = join(work, "probe.ts");
  await writeFile(probe, `import * as mod from "fr-greeter";\nexport { mod };\n`);
  const { url } = await compileFlow(probe, { envDir });
  const worker = new Worker(WORKER, { workerData: { moduleUrl: url, call, args }, execArgv: [] });
  try {
    const [report] = (await Promise.race([once(worker, "message"), once(worker, "error").then(([e]) => Promise.reject(e))])) as [WorkerReport];
    return report;
  } finally {
    await worker.terminate();
  }
}

/** A child process that builds `packages` with ensureEnvironment; it waits for "go" on stdin. */
function spawnBuilder(packages: Record<string, string>, cacheRoot: string): ChildProcess & { output: { out: string; err: string } } {
  const script = `
    const { ensureEnvironment } = await import(${JSON.stringify(BUILDER)});
    process.stdout.write("ready\\n");
    await new Promise((resolve) => process.stdin.once("data", resolve));
    const env = await ensureEnvironment(${JSON.stringify(packages)}, {
      cacheRoot: ${JSON.stringify(cacheRoot)}, onProgress: (line) => process.stderr.write(line + "\\n"),
    });
    process.stdout.write(JSON.stringify(env) + "\\n");
    process.exit(0);`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: REPO,
    detached: true, // its own process group: a test can kill it together with its npm
    stdio: ["pipe", "pipe", "pipe"],
  });
  const output = { out: "", err: "" };
  child.stdout!.on("data", (chunk) => (output.out += chunk));
  child.stderr!.on("data", (chunk) => (output.err += chunk));
  return Object.assign(child, { output });
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function countingInstaller(): Installer & { calls: number } {
  const spy = { name: "npm", calls: 0, install: (...args: Parameters<Installer["install"]>) => (spy.calls++, npmInstaller.install(...args)) };
  return spy;
}

/** A pid that certainly belonged to a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

describe("environment spec", () => {
  test("a step's own entry wins over the class-level one for the same package", () => {
    assert.deepEqual(mergeDependencies({ a: "^1", b: "^1" }, { b: "2.0.0", c: "^3" }), { a: "^1", b: "2.0.0", c: "^3" });
    assert.deepEqual(mergeDependencies(undefined, { c: "1" }), { c: "1" });
    assert.deepEqual(mergeDependencies(), {});
  });

  test("the id depends on the set, not its order, and on the Node major", () => {
    const id = (deps: Record<string, string>, nodeMajor?: number) => environmentId({ dependencies: deps, nodeMajor });
    assert.equal(id({ a: "1", b: "2" }), id({ b: "2", a: "1" }));
    assert.notEqual(id({ a: "1" }), id({ a: "2" }));
    assert.notEqual(id({ a: "1" }, 20), id({ a: "1" }, 22));
    assert.deepEqual(installSet({ a: "^1", new: "^3" }, { a: "1.4.0", dep: "2.0.1" }), { a: "1.4.0", dep: "2.0.1", new: "^3" });
  });

  test("npm's error output is reduced to the line that names the problem", () => {
    const refused = [
      "npm error code ECONNREFUSED",
      "npm error syscall connect",
      "npm error FetchError: request to http://127.0.0.1:9/left-pad failed, reason: connect ECONNREFUSED 127.0.0.1:9",
      "npm error     at ClientRequest.<anonymous> (minipass-fetch/lib/index.js:130:14)",
      "npm error A complete log of this run can be found in: /x.log",
    ].join("\n");
    assert.equal(summarizeNpmError(refused), "request to http://127.0.0.1:9/left-pad failed, reason: connect ECONNREFUSED 127.0.0.1:9");
    const old = "npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://r/leftpadd\nnpm ERR! 404  'leftpadd@*' is not in this registry.\n";
    assert.equal(summarizeNpmError(old), "'leftpadd@*' is not in this registry.");
    assert.equal(summarizeNpmError("npm error code EACCES\nnpm error permission denied\n"), "permission denied");
    assert.equal(summarizeNpmError("Segmentation fault\n"), "Segmentation fault");
  });
});

describe("dependency environments", () => {
  test("an environment installs from tarball paths with no registry reachable", async () => {
    const tarball = packs["fr-greeter@1.0.0"]!.tarball;
    const saved = process.env.npm_config_registry;
    process.env.npm_config_registry = "http://127.0.0.1:9/"; // nothing listens: any lookup fails loudly
    try {
      const env = await ensureEnvironment({ "fr-greeter": `file:${tarball}` }, { cacheRoot: freshRoot() });
      assert.equal(env.built, true);
      assert.deepEqual(env.lock, { "fr-greeter": `file:${tarball}` });
      assert.deepEqual(await importInWorker(env.dir, "greet"), { ok: true, exports: ["greet"], result: "hello v1" });
    } finally {
      process.env.npm_config_registry = saved;
    }
  });

  test("two environments with conflicting versions serve two workers side by side", async () => {
    const cacheRoot = freshRoot();
    const [v1, v2] = await Promise.all([
      ensureEnvironment({ "fr-greeter": "^1.0.0" }, { cacheRoot }),
      ensureEnvironment({ "fr-greeter": "^2.0.0" }, { cacheRoot }),
    ]);
    assert.notEqual(v1.dir, v2.dir);
    assert.deepEqual(v1.lock, { "fr-greeter": "1.0.0" });
    assert.deepEqual(v2.lock, { "fr-greeter": "2.0.0", "fr-helper": "1.0.0" });
    const [seen1, seen2] = await Promise.all([importInWorker(v1.dir, "greet"), importInWorker(v2.dir, "default#greet", ["ada"])]);
    assert.deepEqual(seen1, { ok: true, exports: ["greet"], result: "hello v1" });
    assert.deepEqual(seen2, { ok: true, exports: ["default"], result: "hello v2, ada (helper 1.0.0)" });
  });

  test("a worker without an environment cannot import the package", async () => {
    const report = await importInWorker(undefined, "greet");
    assert.equal(report.ok, false);
    assert.equal(report.code, "ERR_MODULE_NOT_FOUND");
  });

  test("a built environment is reused without running npm again", async () => {
    const cacheRoot = freshRoot();
    const installer = countingInstaller();
    const first = await ensureEnvironment({ "fr-greeter": "1.0.0" }, { cacheRoot, installer });
    const marker = await readFile(join(first.dir, MARKER), "utf8");
    const requests = registry.requests.length;
    const lines: string[] = [];
    const again = await ensureEnvironment({ "fr-greeter": "1.0.0" }, { cacheRoot, installer, onProgress: (l) => lines.push(l) });
    assert.deepEqual({ ...again, built: true }, first);
    assert.equal(again.built, false);
    assert.equal(installer.calls, 1);
    assert.deepEqual(lines, []);
    assert.equal(registry.requests.length, requests, "no registry request on reuse");
    assert.equal(await readFile(join(first.dir, MARKER), "utf8"), marker, "the environment was not rebuilt");
    // Two steps of one process asking at once share one build.
    const root2 = freshRoot();
    const both = await Promise.all([1, 2].map(() => ensureEnvironment({ "fr-greeter": "1.0.0" }, { cacheRoot: root2, installer })));
    assert.deepEqual(both.map((env) => env.built).sort(), [false, true]);
    assert.equal(installer.calls, 2);
  });

  test("two processes building the same environment: one builds, the other waits", async () => {
    const cacheRoot = freshRoot();
    const children = [1, 2].map(() => spawnBuilder({ "fr-greeter": "^2.0.0" }, cacheRoot));
    await until(() => children.every((c) => c.output.out.includes("ready")), "both builders to start");
    for (const child of children) child.stdin!.end("go\n");
    const codes = await Promise.all(children.map(async (c) => (await once(c, "exit"))[0]));
    assert.deepEqual(codes, [0, 0], children.map((c) => c.output.err).join("\n"));
    const results = children.map((c) => JSON.parse(c.output.out.split("\n")[1]!));
    assert.equal(results[0].dir, results[1].dir);
    assert.deepEqual(results.map((r) => r.built).sort(), [false, true]);
    assert.ok(children.some((c) => c.output.err.includes("waiting for environment")), "the second process waited");
    assert.deepEqual(await readdir(cacheRoot), [results[0].id], "one environment, no temp dir or lock left");
    assert.deepEqual((await importInWorker(results[0].dir, "default#greet", ["bo"])).result, "hello v2, bo (helper 1.0.0)");
  });

  test("a rename race publishes the first copy and discards the second", async () => {
    const cacheRoot = freshRoot();
    const [a, b, dir] = [join(cacheRoot, "a"), join(cacheRoot, "b"), join(cacheRoot, "env")];
    for (const [temp, who] of [[a, "a"], [b, "b"]] as const) {
      await mkdir(temp, { recursive: true });
      await writeFile(join(temp, MARKER), JSON.stringify({ id: who, lock: {} }));
    }
    assert.equal(await publish(a, dir), true);
    assert.equal(await publish(b, dir), false);
    assert.equal((await readMarker(dir))?.id, "a");
    assert.deepEqual((await readdir(cacheRoot)).sort(), ["env"]);
  });

  test("a missing version fails with one line naming the package", async () => {
    const cacheRoot = freshRoot();
    const error = await ensureEnvironment({ "fr-greeter": "^99.0.0" }, { cacheRoot, label: "GreetFlow/start" }).catch((e) => e);
    assert.ok(error instanceof EnvironmentError, String(error));
    assert.equal(error.code, "FLOWRUN_ERR_ENVIRONMENT");
    assert.equal(error.exitCode, 2);
    assert.equal(error.where, "GreetFlow/start");
    assert.equal(error.message, "npm install failed: No matching version found for fr-greeter@^99.0.0.");
    assert.deepEqual(await readdir(cacheRoot), [], "nothing left in the cache");
    const unknown = await ensureEnvironment({ "fr-nope": "1.0.0" }, { cacheRoot }).catch((e) => e);
    assert.ok(unknown instanceof EnvironmentError);
    assert.match(unknown.message, /^npm install failed: .*'fr-nope@1\.0\.0'[^\n]*$/);
  });

  test("a build killed mid-install is never taken as complete, and the next build recovers", async () => {
    const cacheRoot = freshRoot();
    const packages = { "fr-greeter": "^2.0.0" };
    const child = spawnBuilder(packages, cacheRoot);
    await until(() => child.output.out.includes("ready"), "the builder to start");
    child.stdin!.end("go\n");
    await until(() => child.output.err.includes("building environment"), "npm to start");
    process.kill(-child.pid!, "SIGKILL"); // the builder and its npm, as a crash would
    await once(child, "exit");
    const id = environmentId({ dependencies: installSet(packages) });
    assert.equal(await readMarker(join(cacheRoot, id)), undefined);
    assert.deepEqual(await listEnvironments(cacheRoot), []);
    assert.deepEqual((await listLeftovers(cacheRoot)).map((l) => l.kind).sort(), ["lock", "temp"]);
    const lines: string[] = [];
    const env = await ensureEnvironment(packages, { cacheRoot, onProgress: (l) => lines.push(l) });
    assert.equal(env.built, true);
    assert.ok(!lines.some((l) => l.includes("waiting")), "the dead builder's lock was taken over at once");
    assert.deepEqual(await listLeftovers(cacheRoot), [], "the abandoned temp dir was swept");
  });

  test("a directory without completion marker is replaced, not used", async () => {
    const cacheRoot = freshRoot();
    const packages = { "fr-greeter": "1.0.0" };
    const id = environmentId({ dependencies: installSet(packages) });
    await mkdir(join(cacheRoot, id, "node_modules", "fr-greeter"), { recursive: true }); // half a copy
    await mkdir(join(cacheRoot, `.tmp-${id}-${deadPid()}-x`));
    await writeFile(join(cacheRoot, `.${id}.building`), JSON.stringify({ pid: deadPid(), host: hostname(), token: "t" }));
    const env = await ensureEnvironment(packages, { cacheRoot });
    assert.equal(env.built, true);
    assert.equal((await importInWorker(env.dir, "greet")).result, "hello v1");
    assert.deepEqual(await readdir(cacheRoot), [id]);
  });

  test("flowrun env list, path and clean", async () => {
    const cacheRoot = freshRoot();
    const saved = process.env.FLOWRUN_ENV_CACHE;
    process.env.FLOWRUN_ENV_CACHE = cacheRoot;
    const run = async (...args: string[]) => {
      const io = { out: [] as string[], err: [] as string[] };
      const code = await envCommand(args, { out: (l) => io.out.push(l), err: (l) => io.err.push(l) });
      return { code, out: io.out.join("\n"), err: io.err.join("\n") };
    };
    try {
      const ids = ["aaaa1111", "bbbb2222"];
      for (const [i, id] of ids.entries()) {
        await mkdir(join(cacheRoot, id), { recursive: true });
        const marker = { id, packages: { "fr-greeter": `^${i + 1}.0.0` }, lock: {}, node: "v20", platform: "x", createdAt: `2026-01-0${i + 1}T10:00:00Z` };
        await writeFile(join(cacheRoot, id, MARKER), JSON.stringify(marker));
      }
      await mkdir(join(cacheRoot, `.tmp-aaaa1111-${deadPid()}-x`));
      const listed = await run("list");
      assert.match(listed.out, /^ID\s+PACKAGES\s+SIZE\s+CREATED$/m);
      assert.match(listed.out, /^aaaa1111\s+fr-greeter@\^1\.0\.0\s+\d.*2026-01-01 10:00$/m);
      assert.match(listed.out, /1 leftover/);
      assert.deepEqual(await run("path", "bbbb"), { code: 0, out: join(cacheRoot, "bbbb2222"), err: "" });
      assert.equal((await run("path", "cccc")).code, 2);
      assert.equal((await run("clean", "aaaa1111", "nope")).code, 2, "a typo removes nothing");
      assert.equal((await listEnvironments(cacheRoot)).length, 2);
      assert.equal((await run("clean")).code, 0);
      assert.deepEqual((await readdir(cacheRoot)).sort(), ids, "only the leftover went");
      assert.match((await run("clean", "aaaa")).out, /removed aaaa1111/);
      assert.equal((await run("clean", "--all")).code, 0);
      assert.deepEqual(await readdir(cacheRoot), []);
      assert.equal((await run("frobnicate")).code, 2);
    } finally {
      if (saved === undefined) delete process.env.FLOWRUN_ENV_CACHE;
      else process.env.FLOWRUN_ENV_CACHE = saved;
    }
  });

  // Last: it publishes fr-helper 1.1.0, which changes what `fr-greeter@^2` resolves to.
  test("building with a recorded lock reproduces its versions after new releases", async () => {
    const original = await ensureEnvironment({ "fr-greeter": "^2.0.0" }, { cacheRoot: freshRoot() });
    assert.deepEqual(original.lock, { "fr-greeter": "2.0.0", "fr-helper": "1.0.0" });
    registry.publish(packs["fr-helper@1.1.0"]!);
    const cacheRoot = freshRoot();
    const fresh = await ensureEnvironment({ "fr-greeter": "^2.0.0" }, { cacheRoot });
    assert.equal(fresh.lock["fr-helper"], "1.1.0", "without the lock the new release is picked up");
    const resumed = await ensureEnvironment({ "fr-greeter": "^2.0.0" }, { cacheRoot, lock: original.lock });
    assert.equal(resumed.built, true);
    assert.deepEqual(resumed.lock, original.lock);
    assert.equal((await importInWorker(resumed.dir, "default#greet", ["cy"])).result, "hello v2, cy (helper 1.0.0)");
  });
});
