/**
 * The S3 backend against a real S3-compatible server (s3rver in a child process): what only
 * S3 does (request counts, multipart, the blob cache, AWS configuration, a dying server).
 * What every backend promises is in storage-backend-contract.test.ts. What was uploaded or
 * downloaded is asserted from the server's own request log, never from timing.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DatastoreError } from "../src/core/errors.js";
import { openS3Backend } from "../runtime/datastore/s3-backend.js";
import type { StorageBackend } from "../runtime/datastore/storage-backend.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";

const MB = 1024 * 1024;
const scratch = mkdtempSync(join(tmpdir(), "flowrun-s3-test-"));
let cacheCount = 0;
const freshCache = () => join(scratch, `cache-${cacheCount++}`);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

// Every AWS_* variable of the developer's shell is dropped, and HOME points at an empty
// directory, so no real profile or credential can leak into (or out of) these tests.
for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
process.env.HOME = join(scratch, "home");
process.env.AWS_EC2_METADATA_DISABLED = "true";

after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `fn` with `vars` set (undefined = unset), restoring the environment afterwards. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

async function openFailure(root: string, vars: Record<string, string | undefined>): Promise<DatastoreError> {
  const started = Date.now();
  const error = await withEnv(vars, () => openS3Backend(root, { cacheDir: freshCache() })).then(
    () => assert.fail("open should have failed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DatastoreError, `expected DatastoreError, got ${String(error)}`);
  assert.equal(error.code, "FLOWRUN_ERR_DATASTORE");
  assert.ok(!error.message.includes("\n"), "the message is one line");
  assert.ok(error.hint, "a hint says what to do");
  assert.ok(Date.now() - started < 5_000, `failed within seconds (took ${Date.now() - started} ms)`);
  return error;
}

describe("S3 backend", () => {
  let server: S3TestServer;
  let root: string;
  const open = (cacheDir = freshCache()) => withEnv(server.env, () => openS3Backend(root, { cacheDir }));

  before(async () => {
    server = await startS3Server();
    root = `s3://${server.bucket}/flowrun`;
  });
  after(() => server.stop());

  it("uploads an equal blob once, even from another client", async () => {
    const bytes = randomBytes(4096);
    const hash = sha256(bytes);
    const [a, b] = [await open(), await open()];
    await a.putBlob(hash, bytes);
    await a.putBlob(hash, bytes);
    await b.putBlob(hash, bytes);
    assert.equal(await server.objectWrites(hash), 1);
    assert.equal(await server.objectWrites(`/flowrun/blobs/${hash.slice(0, 2)}/${hash}`), 1, "stored under blobs/<hash[0..2]>/<hash>");
  });

  it("writes a batch of records in the given order", async () => {
    const store = await open();
    await store.putRecords([
      { key: "order/c", value: 1 },
      { key: "order/a", value: 2 },
      { key: "order/done", value: { ok: true } },
    ]);
    const puts = (await server.requests()).filter((r) => r.method === "PUT" && r.path.includes("/records/order/"));
    assert.deepEqual(puts.map((r) => r.path.split("/").pop()), ["c", "a", "done"]);
    assert.deepEqual(await store.getRecord("order/done"), { ok: true });
  });

  it("reads a blob once per machine: the local cache answers the second read", async () => {
    const bytes = randomBytes(64 * 1024);
    const hash = sha256(bytes);
    await (await open()).putBlob(hash, bytes);

    const cacheDir = freshCache();
    const reader = await open(cacheDir);
    assert.deepEqual(Buffer.from((await reader.getBlob(hash))!), bytes);
    assert.deepEqual(Buffer.from((await reader.getBlob(hash))!), bytes);
    assert.deepEqual(Buffer.from((await (await open(cacheDir)).getBlob(hash))!), bytes);
    assert.equal(await server.objectReads(hash), 1);
    assert.deepEqual(readdirSync(join(cacheDir, hash.slice(0, 2))), [hash], "no temporary files left behind");

    // The writer cached what it uploaded: reading it back costs no download either.
    const other = randomBytes(1000);
    const writer = await open();
    await writer.putBlob(sha256(other), other);
    await writer.getBlob(sha256(other));
    assert.equal(await server.objectReads(sha256(other)), 0);
  });

  it("round-trips a 300 MB blob with multipart upload and parallel ranged reads, memory bounded", async (t) => {
    const size = 300 * MB;
    const writer = await open();
    const reader = await open();
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const bytes = randomFillSync(Buffer.allocUnsafe(size));
      const hash = randomBytes(32).toString("hex"); // hashing 300 MB is not what is tested
      let started = performance.now();
      await writer.putBlob(hash, bytes);
      const putSeconds = (performance.now() - started) / 1000;
      started = performance.now();
      const back = await reader.getBlob(hash);
      const getSeconds = (performance.now() - started) / 1000;
      assert.ok(back && Buffer.compare(back, bytes) === 0, "same bytes back");

      const log = (await server.requests()).filter((r) => r.path.endsWith(hash));
      assert.equal(log.filter((r) => r.method === "PUT" && r.query.has("partNumber")).length, Math.ceil(size / (16 * MB)));
      assert.equal(log.filter((r) => r.method === "POST" && r.query.has("uploadId")).length, 1, "one CompleteMultipartUpload");
      assert.equal(log.filter((r) => r.method === "GET").length, Math.ceil(size / (16 * MB)), "16 MiB ranges");
      const overhead = (peak - baseline) / MB;
      t.diagnostic(`300 MB: put ${putSeconds.toFixed(1)} s, get ${getSeconds.toFixed(1)} s, peak RSS +${overhead.toFixed(0)} MB over baseline`);
      // Input (1x) + downloaded copy (1x) is the floor; allow sockets, SDK and GC slack.
      assert.ok(overhead < 3 * 300, `peak RSS grew by ${overhead.toFixed(0)} MB`);
    } finally {
      clearInterval(sampler);
    }
  });

  it("takes credentials, region and endpoint_url from an AWS profile", async () => {
    const home = join(scratch, "home-with-profile");
    mkdirSync(join(home, ".aws"), { recursive: true });
    writeFileSync(join(home, ".aws", "config"), `[profile dev]\nregion = eu-west-3\nendpoint_url = ${server.endpoint}\n`);
    writeFileSync(join(home, ".aws", "credentials"), "[dev]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n");
    const vars = { ...server.env, HOME: home, AWS_PROFILE: "dev", AWS_ENDPOINT_URL_S3: undefined, AWS_REGION: undefined,
      AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined };
    const store = await withEnv(vars, () => openS3Backend(root, { cacheDir: freshCache() }));
    await store.putRecords([{ key: "via-profile", value: 1 }]);
    assert.equal(await store.getRecord("via-profile"), 1);
  });

  describe("misconfiguration fails at open with one line naming the setting", () => {
    it("a malformed root", async () => {
      const error = await openFailure("my-bucket/prefix", server.env);
      assert.equal(error.message, '--datastore-root must look like s3://bucket/prefix, got "my-bucket/prefix"');
    });

    it("an unknown profile", async () => {
      const error = await openFailure(root, { ...server.env, AWS_PROFILE: "nope" });
      assert.equal(error.message, "AWS_PROFILE=nope: profile not found in ~/.aws/config");
    });

    it("no credentials", async () => {
      const error = await openFailure(root, { ...server.env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
      assert.equal(error.message, "AWS credentials: none found (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials)");
      assert.ok(error.cause, "the SDK error is kept as cause");
    });

    it("a bucket that does not exist", async () => {
      const error = await openFailure("s3://no-such-bucket/flowrun", server.env);
      assert.equal(error.message, "s3://no-such-bucket: bucket does not exist");
    });

    it("an unreachable endpoint", async () => {
      const error = await openFailure(root, { ...server.env, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1" });
      assert.equal(error.message, "AWS_ENDPOINT_URL_S3=http://127.0.0.1:1: connection refused");
      assert.equal((error.cause as { code?: string }).code, "ECONNREFUSED", "the SDK error is kept as cause");
    });

    it("credentials the server refuses", async () => {
      const error = await openFailure(root, { ...server.env, AWS_ACCESS_KEY_ID: "WRONG" });
      assert.equal(error.message, `s3://${server.bucket}: access denied`);
      assert.match(error.hint!, /AWS_ACCESS_KEY_ID=WRONG/);
    });
  });
});

describe("S3 backend when the server dies mid-upload", () => {
  it("fails within seconds naming the endpoint, and leaves no partial blob visible", async (t) => {
    const first = await startS3Server();
    t.after(() => first.stop()); // a no-op kill by then; deletes its directory
    const root = `s3://${first.bucket}/flowrun`;
    const store: StorageBackend = await withEnv(first.env, () => openS3Backend(root, { cacheDir: freshCache() }));
    const hash = randomBytes(32).toString("hex");
    const upload = store.putBlob(hash, randomFillSync(Buffer.allocUnsafe(100 * MB))).then(
      () => assert.fail("the upload should have failed"),
      (e: unknown) => e,
    );
    while (!(await first.requests()).some((r) => r.query.has("partNumber"))) await new Promise((r) => setTimeout(r, 5));
    await first.stop({ keepDirectory: true });
    const stoppedAt = Date.now();
    const error = await upload;
    assert.ok(error instanceof DatastoreError, String(error));
    assert.match(error.message, new RegExp(`^AWS_ENDPOINT_URL_S3=${first.endpoint}: connection (refused|reset)$`));
    t.diagnostic(`failed ${Date.now() - stoppedAt} ms after the server died: ${error.message}`);
    assert.ok(Date.now() - stoppedAt < 5_000, `failed ${Date.now() - stoppedAt} ms after the server died`);
    await assert.rejects(store.getBlob(randomBytes(32).toString("hex")), /connection refused/);

    // Restarted on the same data: the parts uploaded before the crash are not an object.
    const second = await startS3Server({ directory: first.directory });
    t.after(() => second.stop());
    const again = await withEnv(second.env, () => openS3Backend(root, { cacheDir: freshCache() }));
    assert.equal(await again.hasBlob(hash), false, "an incomplete multipart upload is invisible");
    await again.close();
  });
});
