/**
 * What a user sees when S3 goes wrong. The server dying in the middle of a run: the CLI
 * stops within seconds with one clear line naming the endpoint, the run resumes once the
 * server is back, and no reader ever sees a task that did not commit. Each way of
 * misconfiguring S3: exit 2 with one line naming the setting, before anything is written.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createHash } from "node:crypto";
import { Flow, namespace } from "../src/index.js";
import { openS3Backend } from "../runtime/datastore/s3-backend.js";
import { describeResult, exampleFlow, REPO, runCli, type CliResult } from "./support/flowrun-cli.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { isolateFromAws, s3Store, useS3Server } from "./fixtures/s3/test-stores.js";

const FLAKY = join(REPO, "test/fixtures/resume/FlakyForeachFlow.ts");
const TSX = import.meta.resolve("tsx");

const scratch = isolateFromAws();
after(() => rmSync(scratch, { recursive: true, force: true }));
namespace(null);

/** Lines of `text` that look like a JS stack frame. */
const stackFrames = (text: string) => text.split("\n").filter((line) => /^\s+at\s/.test(line));

describe("the S3 server stops in the middle of a run", () => {
  let first: S3TestServer;
  let second: S3TestServer | undefined;
  after(async () => {
    await first?.stop();
    await second?.stop();
    if (first) rmSync(first.directory, { recursive: true, force: true });
  });

  const log = join(scratch, "outage.log");
  const executed = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map(Number) : []);
  const splits = 30;
  let failed: CliResult & { msAfterStop: number };
  let originId: string;

  test("the CLI fails within seconds with one line naming the endpoint, no SDK error text", async (t) => {
    first = await startS3Server();
    useS3Server(first);
    const store = s3Store(first, "outage");
    const idFile = join(scratch, "outage-run-id");
    let stoppedAt = 0;
    failed = await new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", TSX, join(REPO, "src/cli/main.ts"), "run", FLAKY, "--splits", String(splits), "--fail-at", "-1", "--sleep-ms", "300",
          "--max-workers", "2", "--run-id-file", idFile],
        { cwd: REPO, env: { ...process.env, ...store.env, NO_COLOR: "1", FLAKY_LOG: log } },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      // Slow splits, two at a time: a few have committed when the server dies.
      const timer = setInterval(() => {
        if (executed().length >= 6) {
          clearInterval(timer);
          stoppedAt = Date.now();
          void first.stop({ keepDirectory: true });
        }
      }, 20);
      child.on("close", (code) => {
        clearInterval(timer);
        resolve({ code: code ?? 1, stdout, stderr, msAfterStop: Date.now() - stoppedAt });
      });
    });
    originId = readFileSync(idFile, "utf8").trim();
    t.diagnostic(`exit ${failed.code}, ${failed.msAfterStop} ms after the server stopped; stderr: ${JSON.stringify(failed.stderr.trim())}`);
    assert.ok(failed.code === 1 || failed.code === 2, describeResult(failed));
    assert.ok(failed.msAfterStop < 10_000, `exited ${failed.msAfterStop} ms after the server stopped`);
    // The line that says why: the setting and its value, then what happened (one line).
    assert.match(failed.stderr, new RegExp(`AWS_ENDPOINT_URL_S3=${first.endpoint.replace(/\./g, "\\.")}: connection (refused|reset)$`, "m"), describeResult(failed));
    assert.doesNotMatch(failed.stdout + failed.stderr, /@aws-sdk|@smithy|ECONNREFUSED/);
  });

  test("no stack trace without --debug", () => {
    assert.deepEqual(stackFrames(failed.stdout + failed.stderr), []);
  });

  test("the failure says how to resume the run", () => {
    assert.match(failed.stdout + failed.stderr, new RegExp(`flowrun resume .* --origin-run-id ${originId}`));
  });

  test("restarted on the same data: only committed tasks are successful, and resume finishes the run", async () => {
    assert.ok(failed, "the outage ran");
    second = await startS3Server({ directory: first.directory });
    useS3Server(second); // a new port: the client opens its first S3 connection here
    const store = s3Store(second, "outage");
    const flow = new Flow("FlakyForeachFlow", { datastore: store.datastore });

    const origin = (await flow.runs())[0]!;
    assert.equal(origin.id, originId);
    assert.equal(origin.successful, false);
    const body = await (await origin.step("body")).tasks();
    const committed = body.filter((t) => t.successful);
    assert.ok(committed.length > 0 && committed.length < splits, `committed ${committed.length} of ${splits}`);
    for (const task of committed) assert.equal(await task.artifact("square"), task.index! * task.index!, `${task.pathspec} is whole`);
    for (const task of body.filter((t) => !t.successful)) {
      assert.equal(task.successful, false, `${task.pathspec} (in flight when the server died) is not successful`);
    }
    await assert.rejects(origin.step("join"), /has no tasks/);

    rmSync(log, { force: true });
    const resumed = await runCli(["resume", FLAKY, "--origin-run-id", originId], { env: { ...store.env, FLAKY_LOG: log } });
    assert.equal(resumed.code, 0, describeResult(resumed));
    const committedIndexes = new Set(committed.map((t) => t.index!));
    assert.deepEqual(executed().filter((i) => committedIndexes.has(i)), [], "committed splits are not run again");
    const latest = (await flow.runs())[0]!;
    assert.equal(latest.originRunId, originId);
    assert.equal(latest.successful, true);
    assert.deepEqual(await latest.artifact("squares"), Array.from({ length: splits }, (_, i) => i * i));
  });
});

describe("S3 misconfiguration: exit 2, one line naming the setting, before any task runs", () => {
  let server: S3TestServer;
  let silent: Server;
  let notS3: ReturnType<typeof createHttpServer>;
  const endpointOf = (s: { address(): unknown }) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  before(async () => {
    server = await startS3Server();
    // The AWS settings of each case are passed to the CLI explicitly; nothing is inherited.
    for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    silent = createTcpServer(() => {}).listen(0, "127.0.0.1"); // accepts connections, never answers
    notS3 = createHttpServer((_, res) => res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>")).listen(0, "127.0.0.1");
    await Promise.all([silent, notS3].map((s) => new Promise((resolve) => (s.listening ? resolve(null) : s.once("listening", resolve)))));
  });
  after(async () => {
    silent.close();
    notS3.close();
    await server.stop();
  });

  /** `flowrun run flows/Hello.ts --datastore s3 ...` with exactly `aws` as its AWS settings. */
  async function misconfigured(aws: Record<string, string | undefined>, root?: string, extra: string[] = []) {
    const env = { AWS_REGION: "us-east-1", AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED", AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED", ...aws };
    const idFile = join(scratch, `misconfig-${Math.random().toString(36).slice(2)}`);
    const started = Date.now();
    const result = await runCli(
      ["run", exampleFlow("Hello.ts"), "--datastore", "s3", "--datastore-root", root ?? `s3://${server.bucket}/misconfig`, "--run-id-file", idFile, ...extra],
      { env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)) },
    );
    assert.equal(result.code, 2, describeResult(result));
    assert.equal(existsSync(idFile), false, "no run was created");
    assert.doesNotMatch(result.stdout, /Task is starting/);
    // It fails, it does not hang (the backend tests time the open itself: under 5 s, or 8 s
    // for an endpoint that never answers); this bound also covers the CLI's start on a busy machine.
    assert.ok(Date.now() - started < 60_000, `failed after ${Date.now() - started} ms`);
    if (!extra.includes("--debug")) {
      const lines = result.stderr.trimEnd().split("\n");
      assert.ok(lines.length <= 2 && lines[0]!.startsWith("flowrun: ") && (lines[1] === undefined || lines[1].startsWith("  hint: ")), describeResult(result));
    }
    // The first line ends with the error's code: a misconfigured datastore, whatever the setting.
    const [, message, code] = /^(.*) \[(FLOWRUN_ERR\w*)\]$/.exec(result.stderr.split("\n")[0]!) ?? [];
    if (!extra.includes("--debug")) assert.equal(code, "FLOWRUN_ERR_DATASTORE", describeResult(result));
    return { ...result, message: message ?? result.stderr.split("\n")[0]!, hint: result.stderr.split("\n")[1] ?? "" };
  }

  const valid = () => ({ AWS_ENDPOINT_URL_S3: server.endpoint, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" });

  describe("each setting", { concurrency: 4 }, () => {
    test("an unknown profile", async () => {
      const { message } = await misconfigured({ ...valid(), AWS_PROFILE: "nope" });
      assert.equal(message, "flowrun: AWS_PROFILE=nope: profile not found in ~/.aws/config");
    });

    test("no credentials", async () => {
      const { message, hint } = await misconfigured({ ...valid(), AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
      assert.equal(message, "flowrun: AWS credentials: none found (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials)");
      assert.match(hint, /AWS_ACCESS_KEY_ID/);
    });

    test("a bucket that does not exist", async () => {
      const { message, hint } = await misconfigured(valid(), "s3://no-such-bucket/flowrun");
      assert.equal(message, "flowrun: s3://no-such-bucket: bucket does not exist");
      assert.match(hint, /--datastore-root/);
    });

    test("an endpoint nothing listens on", async () => {
      const { message } = await misconfigured({ ...valid(), AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1" });
      assert.equal(message, "flowrun: AWS_ENDPOINT_URL_S3=http://127.0.0.1:1: connection refused");
    });

    test("an endpoint that accepts connections and never answers", async () => {
      const { message } = await misconfigured({ ...valid(), AWS_ENDPOINT_URL_S3: endpointOf(silent) });
      assert.equal(message, `flowrun: AWS_ENDPOINT_URL_S3=${endpointOf(silent)}: no answer (timed out)`);
    });

    test("an endpoint that is a web server, not S3", async () => {
      const { message } = await misconfigured({ ...valid(), AWS_ENDPOINT_URL_S3: endpointOf(notS3) });
      assert.match(message, new RegExp(`^flowrun: AWS_ENDPOINT_URL_S3=${endpointOf(notS3)}: .*not an S3`));
    });

    test("credentials the server refuses (access denied)", async () => {
      const { message, hint } = await misconfigured({ ...valid(), AWS_ACCESS_KEY_ID: "WRONG" });
      assert.equal(message, `flowrun: s3://${server.bucket}: access denied`);
      assert.match(hint, /AWS_ACCESS_KEY_ID=WRONG/);
    });

    test("--debug adds the stack trace", async () => {
      const result = await misconfigured({ ...valid(), AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1" }, undefined, ["--debug"]);
      assert.match(result.message, /AWS_ENDPOINT_URL_S3=http:\/\/127\.0\.0\.1:1: connection refused/);
      assert.ok(stackFrames(result.stderr).length > 0, describeResult(result));
    });
  });

  test("none of them wrote anything to the bucket", async () => {
    const writes = (await server.requests()).filter((r) => r.method !== "GET" && r.method !== "HEAD");
    assert.deepEqual(writes.map((r) => `${r.method} ${r.path}`), []);
    Object.assign(process.env, server.env);
    const runs = await new Flow("HelloFlow", { datastore: { kind: "s3", root: `s3://${server.bucket}/misconfig` } }).runs();
    assert.deepEqual(runs, []);
  });
});

describe("a busy server is not a dead one", () => {
  test("a burst of 400 concurrent blob writes (a foreach's elements) waits for sockets instead of timing out", async () => {
    // Before the backend bounded its requests in flight, the requests queued behind the
    // HTTP agent's 50 sockets hit the 3 s connection timeout: "no answer (timed out)".
    const server = await startS3Server();
    try {
      Object.assign(process.env, server.env);
      const store = await openS3Backend(`s3://${server.bucket}/burst`, { cacheDir: join(scratch, "burst-cache") });
      const blobs = Array.from({ length: 400 }, (_, i) => Buffer.from(`element ${i}`));
      await Promise.all(blobs.map((bytes) => store.putBlob(createHash("sha256").update(bytes).digest("hex"), bytes)));
      await store.close();
      assert.equal(await server.objectWrites(`/${server.bucket}/burst/blobs/`), 400);
    } finally {
      await server.stop();
    }
  });
});
