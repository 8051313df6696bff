/**
 * Steps on many machines: a real redis-server, a real s3rver and real `flowrun worker`
 * processes (each with caches of its own, so only Redis and S3 connect them to the CLI).
 * Alone: three workers and the CLI need the machine's cores to themselves.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { openBackend } from "../runtime/datastore/open-backend.js";
import { MetadataStore } from "../runtime/metadata/metadata-store.js";
import { packFixtures, startRegistry, type FixtureRegistry } from "./fixtures/packages/fixture-registry.js";
import { isolateFromAws, s3Store, useS3Server, type TestStore } from "./fixtures/s3/test-stores.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { describeResult, REPO, runCli } from "./support/flowrun-cli.js";
import { startQueueWorker, type QueueWorkerProcess } from "./support/queue-workers.js";
import { startRedisServer, type RedisTestServer } from "./support/redis-server.js";

const SQUARES = join(REPO, "test/fixtures/remote/RemoteSquaresFlow.ts");
const MIXED = join(REPO, "test/fixtures/remote/MixedSquaresFlow.ts");
const GREETER = join(REPO, "test/fixtures/remote/RemoteGreeterFlow.ts");

const scratch = isolateFromAws();
let s3: S3TestServer;
let redis: RedisTestServer;
let store: TestStore;
const workers: QueueWorkerProcess[] = [];

const sumOfSquares = (n: number) => ((n - 1) * n * (2 * n - 1)) / 6;

/** `split worker` lines the flow's splits appended, as counts per split. */
function marks(file: string): Map<number, string[]> {
  const bySplit = new Map<number, string[]>();
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const [split, worker] = line.split(" ") as [string, string];
    bySplit.set(Number(split), [...(bySplit.get(Number(split)) ?? []), worker]);
  }
  return bySplit;
}

async function waitForFile(file: string, test: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // not written yet
    }
    if (test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${file} never matched; it holds:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function worker(name: string, options: { queue?: string; concurrency?: number; lockSeconds?: number; redisUrl?: string; env?: Record<string, string> } = {}): Promise<QueueWorkerProcess> {
  const started = await startQueueWorker({ ...options, redisUrl: options.redisUrl ?? redis.url, datastoreRoot: store.datastore.root, name, env: { ...s3.env, ...options.env } });
  workers.push(started);
  return started;
}

before(async () => {
  s3 = await startS3Server();
  useS3Server(s3);
  redis = await startRedisServer();
  store = s3Store(s3, "remote");
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
  await s3?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("three workers on one queue", () => {
  before(async () => {
    await Promise.all(["a", "b", "c"].map((name) => worker(name, { concurrency: 4 })));
  });

  test("a 300-split foreach is spread over all three, each split run once, output streamed back with its pathspec", async () => {
    const marksFile = join(scratch, "marks-300");
    // Concurrency 4 on this machine's cores: each worker thread runs two splits at once, interleaved by the wait.
    const result = await store.run(SQUARES, ["--with", "remote", "--redis", redis.url, "--splits", "300", "--sleep-ms", "20", "--marks", marksFile, "--max-workers", "48"]);
    assert.equal(result.code, 0, describeResult(result));
    const run = await store.read(`RemoteSquaresFlow/${result.runId}`);
    const joinTask = await (await run.step("join")).task();
    assert.equal(await joinTask.artifact("total"), sumOfSquares(300));
    assert.deepEqual(await joinTask.artifact("workers"), ["a", "b", "c"]);
    const ran = marks(marksFile);
    assert.equal(ran.size, 300);
    assert.ok([...ran.values()].every((where) => where.length === 1), "a split ran more than once");
    assert.match(result.stdout + result.stderr, new RegExp(`\\[RemoteSquaresFlow/${result.runId}/body/\\d+\\] split 7 squared on [abc]`));
    // Tasks sharing a thread each see their own `current` and their own output prefix.
    const lines = [...(result.stdout + result.stderr).matchAll(/\[(\S+)\] split \d+ squared on [abc] \((\S+)\)/g)];
    assert.equal(lines.length, 300);
    for (const [, prefix, seen] of lines) assert.equal(seen, prefix);
    // The worker stored the output: `flowrun logs` reads it from S3.
    const task = (await (await run.step("body")).tasks())[0]!;
    const logs = await runCli(["logs", task.pathspec], { env: store.env });
    assert.equal(logs.code, 0, describeResult(logs));
    assert.match(logs.stdout, /split \d+ squared on [abc]/);
  });

  test("`flowrun workers` lists the live workers with their queue and concurrency", async () => {
    const result = await runCli(["workers", "--redis", redis.url]);
    assert.equal(result.code, 0, describeResult(result));
    const rows = result.stdout.split("\n").filter((line) => /\/\d+\s+flowrun\s+4\s/.test(line));
    assert.equal(rows.length, 3, result.stdout);
  });

  test("mixed: only the @remote step goes to the queue, the others run in the CLI", async () => {
    const result = await store.run(MIXED, ["--redis", redis.url, "--splits", "8"]);
    assert.equal(result.code, 0, describeResult(result));
    const run = await store.read(`MixedSquaresFlow/${result.runId}`);
    assert.equal(await (await (await run.step("start")).task()).artifact("startedOn"), "cli");
    const joinTask = await (await run.step("join")).task();
    assert.equal(await joinTask.artifact("joinedOn"), "cli");
    assert.equal(await joinTask.artifact("total"), sumOfSquares(8));
    const where = (await joinTask.artifact("workers")) as string[];
    assert.ok(where.length > 0 && where.every((w) => ["a", "b", "c"].includes(w)), `body ran on ${where}`);
  });

  test("a failing remote split fails the run with its error, at the user's own source line", async () => {
    const result = await store.run(SQUARES, ["--with", "remote", "--redis", redis.url, "--splits", "3", "--fail-at", "1"]);
    assert.equal(result.code, 1, describeResult(result));
    assert.match(result.stdout + result.stderr, /split 1 fails on purpose/);
    assert.match(result.stdout + result.stderr, new RegExp(`${SQUARES.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+`));
  });
});

describe("faults", () => {
  test("a worker SIGKILLed mid-task: the task runs again on another worker, and only that task", async () => {
    const victim = await worker("victim", { queue: "kill", concurrency: 1, lockSeconds: 4 });
    await worker("survivor", { queue: "kill", concurrency: 3, lockSeconds: 4 });
    const marksFile = join(scratch, "marks-kill");
    const running = store.run(SQUARES, ["--with", "remote:queue=kill", "--redis", redis.url, "--splits", "6", "--sleep-ms", "2500", "--marks", marksFile]);
    const text = await waitForFile(marksFile, (t) => / victim\n/.test(t));
    const killedSplit = Number(/(\d+) victim\n/.exec(text)![1]);
    await victim.stop("SIGKILL");
    const result = await running;
    assert.equal(result.code, 0, describeResult(result));
    const run = await store.read(`RemoteSquaresFlow/${result.runId}`);
    assert.equal(await (await (await run.step("join")).task()).artifact("total"), sumOfSquares(6));
    const ran = marks(marksFile);
    assert.deepEqual(ran.get(killedSplit), ["victim", "survivor"]);
    for (const [split, where] of ran) if (split !== killedSplit) assert.equal(where.length, 1, `split ${split} ran on ${where}`);
  });

  test("a frozen worker that finishes late never overwrites the attempt that committed first", async () => {
    const frozen = await worker("frozen", { queue: "freeze", concurrency: 1, lockSeconds: 4 });
    await worker("thawed", { queue: "freeze", concurrency: 3, lockSeconds: 4 });
    const marksFile = join(scratch, "marks-freeze");
    const running = store.run(SQUARES, ["--with", "remote:queue=freeze", "--redis", redis.url, "--splits", "4", "--sleep-ms", "2500", "--marks", marksFile]);
    const text = await waitForFile(marksFile, (t) => / frozen\n/.test(t));
    const frozenSplit = Number(/(\d+) frozen\n/.exec(text)![1]);
    frozen.child.kill("SIGSTOP");
    const result = await running;
    assert.equal(result.code, 0, describeResult(result));
    frozen.child.kill("SIGCONT");
    // The late attempt runs to its end, finds the task committed, and writes nothing.
    await frozen.waitFor(/\] finished \(/, 60_000);
    const backend = await openBackend(store.datastore);
    try {
      const metadata = new MetadataStore(backend);
      const tasks = await metadata.listTasks("RemoteSquaresFlow", result.runId, "body");
      const run = await store.read(`RemoteSquaresFlow/${result.runId}`);
      for (const record of tasks) {
        assert.equal(record.status, "succeeded");
        assert.match(record.worker ?? "", /\/\d+$/);
      }
      const bodies = await (await run.step("body")).tasks();
      const winners = await Promise.all(bodies.map(async (task) => [task.index, await task.artifact("ranOn")] as const));
      assert.deepEqual(winners.find(([input]) => input === frozenSplit)?.[1], "thawed");
    } finally {
      await backend.close();
    }
  });

  test("the CLI killed mid-run: tasks on the workers still finish and commit, and resume clones them", async () => {
    await worker("steady", { queue: "orphan", concurrency: 4 });
    const marksFile = join(scratch, "marks-orphan");
    const idFile = join(scratch, "run-id-orphan");
    const args = ["--with", "remote:queue=orphan", "--redis", redis.url];
    const cli = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(REPO, "src/cli/main.ts"), "run", SQUARES, ...args, "--splits", "4", "--sleep-ms", "1500", "--marks", marksFile, "--run-id-file", idFile], {
      env: { ...process.env, ...store.env },
      stdio: "ignore",
    });
    await waitForFile(marksFile, (t) => t.split("\n").filter(Boolean).length === 4);
    cli.kill("SIGKILL");
    const runId = readFileSync(idFile, "utf8").trim();
    // The splits commit on their own; each done-marker is what resume clones.
    const backend = await openBackend(store.datastore);
    try {
      const metadata = new MetadataStore(backend);
      const deadline = Date.now() + 30_000;
      while ((await metadata.doneTasks("RemoteSquaresFlow", runId, "body")).size < 4) {
        assert.ok(Date.now() < deadline, "the orphaned splits never committed");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await backend.close();
    }
    const resumed = await runCli(["resume", SQUARES, "--origin-run-id", runId, ...args], { env: store.env });
    assert.equal(resumed.code, 0, describeResult(resumed));
    assert.match(resumed.stdout, /7 tasks \(5 cloned from the origin run\)/);
    assert.equal(marks(marksFile).size, 4);
    assert.ok([...marks(marksFile).values()].every((where) => where.length === 1), "a split ran again after resume");
  });

  test("a step with @dependencies gets its environment built on the worker; a step lacking one gets the hint", async () => {
    const work = mkdtempSync(join(scratch, "registry-"));
    const packs = await packFixtures(work, ["fr-greeter-1.0.0"]);
    const registry: FixtureRegistry = await startRegistry([packs["fr-greeter@1.0.0"]!]);
    try {
      const deps = await worker("deps", { queue: "deps", env: registry.npmEnv(work) });
      const result = await store.run(GREETER, ["--redis", redis.url], { env: registry.npmEnv(work) });
      assert.equal(result.code, 0, describeResult(result));
      const greet = await (await (await store.read(`RemoteGreeterFlow/${result.runId}`)).step("greet")).task();
      assert.equal(await greet.artifact("greeting"), "hello v1");
      assert.equal(await greet.artifact("ranOn"), "deps");
      assert.match(deps.output(), /environment \w+ built/);

      // A remote step importing a package only another step declares gets the local run's hint.
      const undeclared = await store.run(join(REPO, "test/fixtures/flows/undeclared-dependency.ts"), ["--with", "remote:queue=deps", "--redis", redis.url], { env: registry.npmEnv(work) });
      assert.equal(undeclared.code, 1, describeResult(undeclared));
      assert.match(undeclared.stderr, /hint: add @dependencies\(\{ packages: \{ "fr-greeter": "\^1\.0\.0" \} \}\) to step farewell \(step greet declares it\)/);
    } finally {
      await registry.close();
    }
  });

  test("Redis lost mid-run: the run fails with one line; once Redis is back, resume finishes it", async () => {
    const own = await startRedisServer();
    try {
      await worker("lonely", { redisUrl: own.url, queue: "lost", concurrency: 2 });
      const marksFile = join(scratch, "marks-lost");
      const args = ["--with", "remote:queue=lost", "--redis", own.url];
      const running = store.run(SQUARES, [...args, "--splits", "2", "--sleep-ms", "4000", "--marks", marksFile]);
      await waitForFile(marksFile, (t) => t.length > 0);
      await own.stop();
      const result = await running;
      assert.equal(result.code, 1, describeResult(result));
      assert.match(result.stderr + result.stdout, /lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+/);
      const restarted = await startRedisServer(own.port);
      try {
        const resumed = await runCli(["resume", SQUARES, "--origin-run-id", result.runId, ...args], { env: store.env });
        assert.equal(resumed.code, 0, describeResult(resumed));
        assert.match(resumed.stdout, /cloned from the origin run/);
      } finally {
        await restarted.stop();
      }
    } finally {
      await own.stop();
    }
  });

  test("a queue no worker serves: the run says so and waits; a second Ctrl-C takes its jobs back off the queue", async () => {
    const cli = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(REPO, "src/cli/main.ts"), "run", SQUARES, "--with", "remote:queue=nobody", "--redis", redis.url, "--splits", "2"], {
      env: { ...process.env, ...store.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    for (const stream of [cli.stdout!, cli.stderr!]) stream.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const exited = new Promise<number>((resolve) => cli.once("exit", (code) => resolve(code ?? 128)));
    const deadline = Date.now() + 60_000;
    while (!/no worker serves queue nobody/.test(output)) {
      assert.ok(Date.now() < deadline, `no warning:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(output, /`flowrun worker --redis redis:\/\/127\.0\.0\.1:\d+ --queue nobody --datastore s3 --datastore-root s3:\/\/\S+`/);
    cli.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 500));
    cli.kill("SIGINT");
    assert.equal(await exited, 1, output);
    assert.match(output, /cancelled/);
    const probe = new Redis(redis.url);
    try {
      assert.equal(await probe.llen("flowrun:nobody:wait"), 0, "the cancelled run left jobs on the queue");
    } finally {
      probe.disconnect();
    }
  });

  test("a worker refuses a job from another flowrun version, saying which two", async () => {
    await worker("versions", { queue: "versions" });
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue("versions", { connection, prefix: "flowrun" });
    const events = new QueueEvents("versions", { connection, prefix: "flowrun" });
    try {
      await events.waitUntilReady();
      const job = await queue.add("start", { flowrun: "0.0.0-older", attempt: { pathspec: "OldFlow/1/start/1" } });
      await assert.rejects(job.waitUntilFinished(events, 30_000), /runs flowrun \d+\.\d+\.\d+; this run was started by flowrun 0\.0\.0-older/);
    } finally {
      await events.close();
      await queue.close();
      connection.disconnect();
    }
  });

  test("setup mistakes are one line and exit 2: a bad --redis URL, no Redis there, a local datastore", async () => {
    const badUrl = await store.run(SQUARES, ["--with", "remote", "--redis", "http://127.0.0.1:6379"]);
    assert.equal(badUrl.code, 2, describeResult(badUrl));
    assert.match(badUrl.stderr, /--redis http:\/\/127\.0\.0\.1:6379 is not a redis:\/\/ URL \[FLOWRUN_ERR_USAGE\]/);

    const nobody = await store.run(SQUARES, ["--with", "remote", "--redis", "redis://127.0.0.1:1"]);
    assert.equal(nobody.code, 2, describeResult(nobody));
    assert.match(nobody.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1: ECONNREFUSED \[FLOWRUN_ERR_QUEUE\]/);
    assert.equal(nobody.runId, "", "no run may be recorded");

    const local = join(scratch, "local-datastore");
    const refused = await runCli(["run", SQUARES, "--with", "remote", "--redis", redis.url, "--datastore", "local", "--datastore-root", local]);
    assert.equal(refused.code, 2, describeResult(refused));
    assert.match(refused.stderr, /the datastore is local .* workers on other machines cannot read it \[FLOWRUN_ERR_QUEUE\]/);
    assert.match(refused.stderr, /hint: use --datastore s3/);

    const workerNoRedis = await runCli(["worker", "--redis", "redis://127.0.0.1:1", "--datastore", "s3", "--datastore-root", store.datastore.root]);
    assert.equal(workerNoRedis.code, 2, describeResult(workerNoRedis));
    assert.match(workerNoRedis.stderr, /cannot reach Redis/);
  });
});
