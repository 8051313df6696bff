/**
 * The single executable (`make binary`, scripts/build-binary.mjs) in an empty directory far
 * from any node_modules, with a cache directory of its own: its version line, a linear flow,
 * a foreach, resume after a failure, the inspection commands, a `worker` serving a remote run,
 * and the npm package's client reading what the binary wrote. Skipped when dist/flowrun-linux-x64 was not built, unless
 * FLOWRUN_REQUIRE_BINARY=1 (CI builds it and sets that).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { packFixtures, startRegistry, type FixtureRegistry } from "./fixtures/packages/fixture-registry.js";
import { REPO, type CliResult } from "./support/flowrun-cli.js";
import { killed, startRedisServer } from "./support/redis-server.js";
import { startS3Server } from "./support/s3-server.js";

/** A step with its own npm package, installed by npm from the test's registry. */
const DEPENDENCY_FLOW = `import { FlowSpec, step, dependencies } from "flowrun";

export default class GreeterFlow extends FlowSpec {
  declare hello: string;

  @dependencies({ packages: { "fr-greeter": "^1.0.0" } })
  @step
  async start() {
    const { greet } = await import("fr-greeter");
    this.hello = greet();
    this.next(this.end);
  }

  @step
  end() {}
}
`;

const BINARY = join(REPO, "dist", `flowrun-${process.platform}-${process.arch}`);
const built = existsSync(BINARY);
if (!built && process.env.FLOWRUN_REQUIRE_BINARY === "1") throw new Error(`${BINARY} was not built: run \`make binary\``);

/** The binary in `dir`, with only PATH, a fresh HOME and cache, and NO_COLOR from this environment. */
function runBinary(dir: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(BINARY, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(dir, "..", "home"), XDG_CACHE_HOME: join(dir, "..", "cache"), NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const show = (r: CliResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
const runIdOf = (r: CliResult) => /Run \w+\/(\S+) (?:succeeded|failed)/.exec(r.stdout)?.[1] ?? "";

describe("the single executable, in an empty directory", { skip: !built && "dist/flowrun-linux-x64 not built (make binary)" }, () => {
  let base: string;
  let project: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), "flowrun-binary-"));
    project = join(base, "project");
    mkdirSync(join(project, "flows"), { recursive: true });
    mkdirSync(join(base, "home"));
    copyFileSync(join(REPO, "flows", "Hello.ts"), join(project, "flows", "Hello.ts"));
    copyFileSync(join(REPO, "test", "fixtures", "resume", "FlakyForeachFlow.ts"), join(project, "flows", "FlakyForeachFlow.ts"));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  test("--version names flowrun's and Node's versions", async () => {
    const result = await runBinary(project, ["--version"]);
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, new RegExp(`^flowrun \\d+\\.\\d+\\.\\d+ \\(single executable, Node ${process.version.replace(/\./g, "\\.")}\\)\\n$`));
  });

  test("a linear flow runs; its runtime is unpacked once, then reused", async () => {
    const first = await runBinary(project, ["run", "flows/Hello.ts", "--name", "binary"]);
    assert.equal(first.code, 0, show(first));
    assert.match(first.stdout, /greeting binary in run/);
    const unpacked = readdirSync(join(base, "cache", "flowrun", "runtime"));
    assert.equal(unpacked.length, 1, `one runtime directory: ${unpacked.join(", ")}`);
    const second = await runBinary(project, ["run", "flows/Hello.ts"]);
    assert.equal(second.code, 0, show(second));
    assert.deepEqual(readdirSync(join(base, "cache", "flowrun", "runtime")), unpacked, "nothing unpacked again");
    assert.ok(!existsSync(join(project, "node_modules")) && !existsSync(join(project, "package.json")), "the project stays empty of npm files");
  });

  test("check, show, runs, dump, logs and tag read the flow and the runs", async () => {
    for (const args of [["check", "flows/Hello.ts"], ["show", "flows/Hello.ts"], ["runs", "HelloFlow"]]) {
      const result = await runBinary(project, args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${show(result)}`);
    }
    const run = await runBinary(project, ["run", "flows/Hello.ts", "--name", "dumped"]);
    const runId = runIdOf(run);
    assert.ok(runId, show(run));
    const dump = await runBinary(project, ["dump", `HelloFlow/${runId}`, "--artifact", "greeting"]);
    assert.match(dump.stdout, /greeting = 'Hello, dumped!'/, show(dump));
    const logs = await runBinary(project, ["logs", `HelloFlow/${runId}/start`]);
    assert.match(logs.stdout, /greeting dumped in run/, show(logs));
    const tag = await runBinary(project, ["tag", "add", `HelloFlow/${runId}`, "from-binary"]);
    assert.equal(tag.code, 0, show(tag));
  });

  test("a foreach that fails one split, then resume: only that split runs again", async () => {
    const failed = await runBinary(project, ["run", "flows/FlakyForeachFlow.ts", "--splits", "6", "--fail-at", "4"]);
    assert.equal(failed.code, 1, show(failed));
    const origin = runIdOf(failed);
    const log = join(base, "resumed.log");
    const resumed = await runBinary(project, ["resume", "flows/FlakyForeachFlow.ts", "--origin-run-id", origin], { FLAKY_FIXED: "1", FLAKY_LOG: log });
    assert.equal(resumed.code, 0, show(resumed));
    const { readFileSync } = await import("node:fs");
    assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), ["4"], "the committed splits were cloned");
  });

  test("@dependencies installs the step's package with npm; without npm on PATH, exit 2 and one line saying so", async () => {
    writeFileSync(join(project, "flows", "GreeterFlow.ts"), DEPENDENCY_FLOW);
    const work = join(base, "registry");
    mkdirSync(work);
    const packs = await packFixtures(work, ["fr-greeter-1.0.0"]);
    const registry: FixtureRegistry = await startRegistry([packs["fr-greeter@1.0.0"]!]);
    try {
      const installed = await runBinary(project, ["run", "flows/GreeterFlow.ts"], registry.npmEnv(work));
      assert.equal(installed.code, 0, show(installed));
      const dump = await runBinary(project, ["dump", `GreeterFlow/${runIdOf(installed)}/start`, "--artifact", "hello"]);
      assert.match(dump.stdout, /hello = '.+'/, show(dump));
      const list = await runBinary(project, ["env", "list"]);
      assert.match(list.stdout, /fr-greeter/, show(list));
    } finally {
      await registry.close();
    }
    const emptyPath = join(base, "no-npm");
    mkdirSync(emptyPath);
    const noNpm = await runBinary(project, ["run", "flows/GreeterFlow.ts"], { PATH: emptyPath, XDG_CACHE_HOME: join(base, "cache-without-npm") });
    assert.equal(noNpm.code, 2, show(noNpm));
    assert.match(noNpm.stderr, /cannot run npm: .*ENOENT/);
    assert.match(noNpm.stderr, /hint: dependency environments need npm on PATH/);
  });

  test("the S3 datastore", async () => {
    const server = await startS3Server();
    try {
      const env = { ...server.env, FLOWRUN_DATASTORE: "s3", FLOWRUN_DATASTORE_ROOT: `s3://${server.bucket}/binary`, AWS_EC2_METADATA_DISABLED: "true" };
      const run = await runBinary(project, ["run", "flows/Hello.ts", "--name", "s3"], env);
      assert.equal(run.code, 0, show(run));
      const dump = await runBinary(project, ["dump", `HelloFlow/${runIdOf(run)}`, "--artifact", "greeting"], env);
      assert.match(dump.stdout, /greeting = 'Hello, s3!'/, show(dump));
    } finally {
      await server.stop();
    }
  });

  test("`worker` from the binary runs the remote steps of a run started by the binary", async () => {
    const [server, redis] = await Promise.all([startS3Server(), startRedisServer()]);
    const workerDir = join(base, "worker-machine");
    mkdirSync(workerDir);
    const env = { ...server.env, FLOWRUN_DATASTORE: "s3", FLOWRUN_DATASTORE_ROOT: `s3://${server.bucket}/remote`, AWS_EC2_METADATA_DISABLED: "true", FLOWRUN_REDIS_URL: redis.url };
    // Another "machine": its own directory and cache; only Redis and S3 connect it to the run.
    const worker = spawn(BINARY, ["worker", "--concurrency", "2"], {
      cwd: workerDir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: workerDir, XDG_CACHE_HOME: join(workerDir, "cache"), NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    worker.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    try {
      const run = await runBinary(project, ["run", "flows/Hello.ts", "--name", "remote", "--with", "remote"], env);
      assert.equal(run.code, 0, `${show(run)}\n--- worker\n${output}`);
      assert.match(output, /\/repeat\/\d+\] finished/);
      const dump = await runBinary(project, ["dump", `HelloFlow/${runIdOf(run)}/repeat`, "--artifact", "repeated"], env);
      assert.match(dump.stdout, /Hello, remote!/, show(dump));
    } finally {
      await killed(worker, "SIGTERM");
      await Promise.all([redis.stop(), server.stop()]);
    }
  });

  test("the npm package's client, from a .mjs, reads what the binary wrote", async () => {
    const script = join(base, "read.mjs");
    writeFileSync(
      script,
      `import { Flow, namespace } from ${JSON.stringify(join(REPO, "dist", "src", "index.js"))};\n` +
        `namespace(null);\n` +
        `const run = await new Flow("FlakyForeachFlow", { datastore: { kind: "local", root: ${JSON.stringify(join(project, ".flowrun"))} } }).latestRun();\n` +
        `console.log(JSON.stringify({ successful: run.successful, squares: await run.artifact("squares") }));\n`,
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    const code = await new Promise((resolve) => child.on("close", resolve));
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out), { successful: true, squares: [0, 1, 4, 9, 16, 25] });
  });
});
