/**
 * A team shares one bucket (SPEC sections 4-6): users see each other's runs only through a
 * namespace, --production and --branch tag runs and tell the task through `current`, tags
 * can be edited on S3, equal artifacts are uploaded once, a run killed with SIGKILL resumes
 * from exactly what it committed, and a 500 MB artifact round-trips with bounded memory.
 * Everything runs the real CLI against a real S3-compatible server (s3rver); uploads are
 * counted from the server's request log, never inferred from timing.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { defaultNamespace, Flow, getNamespace, namespace, Run } from "../src/index.js";
import { describeResult, REPO, runCli } from "./support/flowrun-cli.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { isolateFromAws, s3Store, useS3Server } from "./fixtures/s3/test-stores.js";

const SHARED = join(REPO, "test/fixtures/s3/SharedProjectFlow.ts");
const DEDUP = join(REPO, "test/fixtures/s3/DedupFlow.ts");
const BIG = join(REPO, "test/fixtures/s3/BigArrayFlow.ts");
const FLAKY = join(REPO, "test/fixtures/resume/FlakyForeachFlow.ts");
const TSX = import.meta.resolve("tsx");
const MB = 2 ** 20;

const scratch = isolateFromAws();
let server: S3TestServer;
before(async () => {
  server = await startS3Server();
  useS3Server(server);
});
after(async () => {
  await server.stop();
  delete process.env.FLOWRUN_USER;
  rmSync(scratch, { recursive: true, force: true });
});

const as = (user: string) => ({ env: { FLOWRUN_USER: user } });
const ids = (runs: Run[]) => runs.map((r) => r.id).sort();

/** Reads as `user` would with the default namespace (FLOWRUN_USER is read when the namespace is computed). */
function becomeUser(user: string): void {
  process.env.FLOWRUN_USER = user;
  defaultNamespace();
}

// These change the process-wide namespace, so they run one after the other.
describe("namespaces, @project branches and tags", () => {
  test("two users with one bucket see each other's runs only through a namespace", async () => {
    const store = s3Store(server, "users");
    const [alice, bob] = await Promise.all([store.run(SHARED, [], as("alice")), store.run(SHARED, [], as("bob"))]);
    assert.equal(alice.code, 0, describeResult(alice));
    assert.equal(bob.code, 0, describeResult(bob));
    const flow = new Flow("SharedProjectFlow", { datastore: store.datastore });

    becomeUser("alice");
    assert.equal(getNamespace(), "user:alice");
    assert.deepEqual(ids(await flow.runs()), [alice.runId], "alice's default namespace shows only her run");
    await assert.rejects(Run.get(`SharedProjectFlow/${bob.runId}`, store), /is not in the current namespace/);
    namespace("user:bob");
    assert.deepEqual(ids(await flow.runs()), [bob.runId]);
    assert.equal((await Run.get(`SharedProjectFlow/${bob.runId}`, store)).user, "bob");
    namespace("project:s3share");
    assert.deepEqual(ids(await flow.runs()), [alice.runId, bob.runId].sort());
    namespace(null);
    assert.deepEqual(ids(await flow.runs()), [alice.runId, bob.runId].sort());

    becomeUser("bob");
    assert.deepEqual(ids(await flow.runs()), [bob.runId], "and bob's shows only his");
    const run = await Run.get(`SharedProjectFlow/${bob.runId}`, store);
    assert.deepEqual([...run.tags].sort(), ["project:s3share", "project_branch:user.bob", "user:bob"]);
    assert.equal(await run.artifact("username"), "bob");
  });

  test("--production and --branch: tags on the run, and what `current` tells the task", async () => {
    const store = s3Store(server, "branches");
    const [prod, branch, plain] = await Promise.all([
      store.run(SHARED, ["--production"], as("alice")),
      store.run(SHARED, ["--branch", "x"], as("alice")),
      store.run(SHARED, [], as("alice")),
    ]);
    for (const result of [prod, branch, plain]) assert.equal(result.code, 0, describeResult(result));
    assert.doesNotMatch(prod.stderr, /nobody else can see/, "no local-datastore warning on S3");

    // Bob, on his machine, finds alice's production run through the project's namespace.
    becomeUser("bob");
    namespace("project:s3share");
    const runs = await new Flow("SharedProjectFlow", { datastore: store.datastore }).runs();
    assert.deepEqual(ids(runs), [prod.runId, branch.runId, plain.runId].sort());
    const production = runs.filter((r) => r.tags.includes("runtime:production"));
    assert.deepEqual(ids(production), [prod.runId]);

    const expected = {
      [prod.runId]: { branchName: "prod", isProduction: true, tags: ["project:s3share", "project_branch:prod", "runtime:production", "user:alice"] },
      [branch.runId]: { branchName: "test.x", isProduction: false, tags: ["project:s3share", "project_branch:test.x", "user:alice"] },
      [plain.runId]: { branchName: "user.alice", isProduction: false, tags: ["project:s3share", "project_branch:user.alice", "user:alice"] },
    };
    for (const run of runs) {
      const want = expected[run.id]!;
      assert.deepEqual([...run.tags].sort(), want.tags, `tags of ${run.pathspec}`);
      const data = await run.data();
      assert.equal(data.isProduction, want.isProduction, `current.isProduction in ${run.pathspec}`);
      assert.equal(data.branchName, want.branchName, `current.branchName in ${run.pathspec}`);
      assert.equal(data.projectName, "s3share");
      assert.equal(data.username, "alice");
      assert.deepEqual([...(data.tagsSeen as string[])].sort(), want.tags, "current.systemTags and current.tags are the run's tags");
      assert.ok(run.tags.includes(data.namespaceSeen as string), `current.namespace ${data.namespaceSeen} shows ${run.pathspec}`);
    }
  });

  test("flowrun tag add/remove round-trips on S3; a system tag cannot be removed", async () => {
    const store = s3Store(server, "tags");
    const result = await store.run(SHARED, [], as("alice"));
    assert.equal(result.code, 0, describeResult(result));
    const pathspec = `SharedProjectFlow/${result.runId}`;
    const tag = (...args: string[]) => runCli(["tag", ...args], { env: store.env });

    const added = await tag("add", pathspec, "reviewed", "nightly");
    assert.equal(added.code, 0, describeResult(added));
    assert.match(added.stdout, /nightly, reviewed/);
    assert.deepEqual((await store.read(pathspec)).metadata.tags, ["nightly", "reviewed"]);

    const removed = await tag("remove", pathspec, "nightly");
    assert.equal(removed.code, 0, describeResult(removed));
    const untagged = await store.read(pathspec);
    assert.deepEqual(untagged.metadata.tags, ["reviewed"]);
    assert.ok(untagged.tags.includes("user:alice") && untagged.tags.includes("reviewed"));

    const refused = await tag("remove", pathspec, "user:alice");
    assert.equal(refused.code, 2, describeResult(refused));
    assert.match(refused.stderr, /user:alice is a system tag and cannot be removed/);
    assert.deepEqual([...(await store.read(pathspec)).tags].sort(), ["project:s3share", "project_branch:user.alice", "reviewed", "user:alice"]);
  });
});

/** A child `flowrun` that the test can SIGKILL. */
function spawnCli(args: string[], env: Record<string, string>, onSpawn: (kill: () => void) => void) {
  return new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", TSX, join(REPO, "src/cli/main.ts"), ...args], { cwd: REPO, env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    onSpawn(() => child.kill("SIGKILL"));
    child.on("close", (code, signal) => resolve({ code, signal, out }));
  });
}

/**
 * `flowrun run ...` with the peak RSS of the CLI process (its worker threads included): GNU
 * time's ru_maxrss when /usr/bin/time exists, else the kernel's VmHWM polled every 20 ms.
 */
async function runMeasured(args: string[], env: Record<string, string>) {
  const cli = [process.execPath, "--import", TSX, join(REPO, "src/cli/main.ts"), ...args];
  const rssFile = join(scratch, `rss-${Date.now()}`);
  const gnuTime = existsSync("/usr/bin/time");
  const argv = gnuTime ? ["/usr/bin/time", "-f", "%M", "-o", rssFile, ...cli] : cli;
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  let polledKb = 0;
  const poll = gnuTime
    ? undefined
    : setInterval(() => {
        void readFile(`/proc/${child.pid}/status`, "utf8").then(
          (status) => (polledKb = Math.max(polledKb, Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0))),
          () => {},
        );
      }, 20);
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  clearInterval(poll);
  const kb = gnuTime ? Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1)) : polledKb;
  return { code, stdout, stderr, peakRssMb: kb / 1024, method: gnuTime ? "/usr/bin/time -f %M" : "VmHWM polling" };
}

// Each test has its own prefix and reads with namespace(null) only: they can run together.
describe("content, resume and size on S3", { concurrency: true }, () => {
  before(() => namespace(null));

  test("a second run with equal artifact values uploads no blob, and still writes its records", async () => {
    const store = s3Store(server, "dedup");
    const blobWrites = () => server.objectWrites(`/${server.bucket}/dedup/blobs/`);
    const recordWrites = () => server.objectWrites(`/${server.bucket}/dedup/records/`);

    const first = await store.run(DEDUP, [], as("alice"));
    assert.equal(first.code, 0, describeResult(first));
    const [blobs1, records1] = [await blobWrites(), await recordWrites()];
    assert.ok(blobs1 > 0, "the first run uploaded its artifacts");

    const second = await store.run(DEDUP, [], as("bob"));
    assert.equal(second.code, 0, describeResult(second));
    const [blobs2, records2] = [await blobWrites(), await recordWrites()];
    assert.equal(blobs2 - blobs1, 0, "no blob uploaded by the second run");
    assert.ok(records2 - records1 > 0, "the second run's records were written");

    const [run1, run2] = [await store.read(`DedupFlow/${first.runId}`), await store.read(`DedupFlow/${second.runId}`)];
    const start1 = await (await run1.step("start")).task();
    const start2 = await (await run2.step("start")).task();
    assert.equal(start2.metadata.artifacts!.samples!.hash, start1.metadata.artifacts!.samples!.hash);
    const samples = await start2.artifact<Float64Array>("samples");
    assert.ok(samples instanceof Float64Array && samples.length === 100_000 && samples[3] === 21);
    assert.deepEqual(await run2.artifact("squares"), [49, 196, 441]);

  });

  test("resume on S3 after SIGKILL re-runs only the splits that had not committed", async () => {
    const store = s3Store(server, "resume");
    const log = join(scratch, "flaky.log");
    const executed = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map(Number) : []);
    const env = { ...store.env, FLOWRUN_USER: "alice", FLAKY_LOG: log };
    const splits = 40;
    const killed = await spawnCli(["run", FLAKY, "--splits", String(splits), "--fail-at", "-1", "--sleep-ms", "100", "--max-workers", "4"], env, (kill) => {
      const timer = setInterval(() => {
        if (executed().length >= 12) {
          clearInterval(timer);
          kill();
        }
      }, 20);
    });
    assert.equal(killed.signal, "SIGKILL", killed.out);

    const flow = new Flow("FlakyForeachFlow", { datastore: store.datastore });
    const origin = (await flow.runs())[0]!;
    assert.equal(origin.status, "crashed", "a killed run shows as crashed, not running");
    const originBody = await (await origin.step("body")).tasks();
    const committed = new Map(originBody.filter((t) => t.successful).map((t) => [t.index!, t]));
    assert.ok(committed.size > 0 && committed.size < splits, `committed ${committed.size}`);

    rmSync(log);
    const resumed = await spawnCli(["resume", FLAKY, "--origin-run-id", origin.id], env, () => {});
    assert.equal(resumed.code, 0, resumed.out);
    const rerun = executed();
    assert.deepEqual(rerun.filter((i) => committed.has(i)), [], "no committed split ran again");
    assert.equal(new Set([...rerun, ...committed.keys()]).size, splits, "every split either ran again or was cloned");

    const latest = (await flow.runs())[0]!;
    assert.equal(latest.originRunId, origin.id);
    assert.equal(latest.successful, true);
    assert.deepEqual(await latest.artifact("squares"), Array.from({ length: splits }, (_, i) => i * i));
    const body = await (await latest.step("body")).tasks();
    assert.deepEqual(body.map((t) => t.index), Array.from({ length: splits }, (_, i) => i));
    for (const task of body) {
      assert.equal(await task.artifact("square"), task.index! * task.index!, `square of split ${task.index}`);
      const source = committed.get(task.index!);
      if (source) {
        // The clone refers to exactly the origin's committed artifacts.
        assert.equal(task.clonedFrom, source.pathspec);
        assert.deepEqual(task.metadata.artifacts, source.metadata.artifacts);
      } else {
        assert.equal(task.clonedFrom, null, `split ${task.index} did not commit in the origin: it ran again`);
      }
    }
  });

  describe("a 500 MB Float64Array artifact through S3", { concurrency: false }, () => {
    const size = 500;
    let measured: Awaited<ReturnType<typeof runMeasured>>;
    let runId: string;

    test("is written, downloaded again and read back intact", async (t) => {
      const store = s3Store(server, "big");
      // An unusable blob cache: every read of the artifact downloads it from S3, instead of
      // reading the copy the write left on this machine.
      writeFileSync(join(scratch, "not-a-directory"), "");
      const env = { ...store.env, FLOWRUN_CACHE_DIR: join(scratch, "not-a-directory", "cache") };
      const idFile = join(scratch, "big-run-id");
      const getsBefore = await server.objectReads(`/${server.bucket}/big/blobs/`);
      measured = await runMeasured(["run", BIG, "--mb", String(size), "--run-id-file", idFile, "--quiet"], env);
      assert.equal(measured.code, 0, describeResult(measured));
      runId = readFileSync(idFile, "utf8").trim();
      t.diagnostic(`peak RSS of the CLI: ${measured.peakRssMb.toFixed(0)} MB (${measured.method})`);

      const run = await store.read(`BigArrayFlow/${runId}`);
      const check = await (await run.step("check")).task();
      const n = (size * MB) / 8;
      assert.equal(await check.artifact("length"), n);
      assert.equal(await check.artifact("mismatches"), 0, "every element read back as written");
      assert.equal(await check.artifact("sum"), (n / 1000) * 500_000);
      const ref = (await (await run.step("start")).task()).metadata.artifacts!.data!;
      assert.equal(ref.size, size * MB);
      assert.equal(ref.encoding, "raw:Float64Array");
      const gets = (await server.objectReads(`/${server.bucket}/big/blobs/`)) - getsBefore;
      assert.ok(gets >= (size * MB) / (16 * MB), `the check step downloaded it from S3 (${gets} GETs)`);
    });

    test(`peak RSS of the CLI stays under 3x the artifact + 300 MB (${3 * size + 300} MB)`, () => {
      assert.ok(measured, "the round trip ran");
      assert.ok(measured.peakRssMb < 3 * size + 300, `peak RSS ${measured.peakRssMb.toFixed(0)} MB`);
    });
  });
});
