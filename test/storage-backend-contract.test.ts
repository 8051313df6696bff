/**
 * The StorageBackend contract (test/support/storage-backend-contract.ts) run against every
 * backend: LMDB in a temporary directory, and S3 on a real S3-compatible server (s3rver in
 * a child process), each test under a prefix of its own in one bucket.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DatastoreError } from "../src/core/errors.js";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";
import { openS3Backend } from "../runtime/datastore/s3-backend.js";
import { storageBackendContract } from "./support/storage-backend-contract.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { isolateFromAws, useS3Server } from "./fixtures/s3/test-stores.js";

const scratch = isolateFromAws();
after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const freshDir = (what: string) => mkdtempSync(join(scratch, `${what}-${count++}-`));

describe("LMDB", () => {
  storageBackendContract("LMDB", async () => {
    const dir = freshDir("lmdb");
    return { open: async () => new LmdbBackend(dir) };
  });

  test("reads blobs synchronously (artifact getters need no prefetch)", async () => {
    const backend = new LmdbBackend(freshDir("lmdb"));
    assert.ok(backend.syncReads);
    assert.equal(backend.kind, "local");
    await backend.close();
  });

  test("a batch is one transaction: a record LMDB refuses (a key over 1,978 bytes) leaves none of it", async () => {
    const backend = new LmdbBackend(freshDir("lmdb"));
    const refused = [{ key: "t/first", value: 1 }, { key: `t/${"k".repeat(2000)}`, value: 2 }];
    await assert.rejects(backend.putRecords(refused), DatastoreError);
    await assert.rejects(backend.replaceRecord("t/old", refused[1]!), DatastoreError);
    assert.deepEqual(await backend.listKeys("t/"), []);
    await backend.putRecords([{ key: "t/old", value: 0 }]);
    await assert.rejects(backend.replaceRecord("t/old", refused[1]!), DatastoreError);
    assert.deepEqual(await backend.listKeys("t/"), ["t/old"], "the old record stays when the new one is refused");
    await backend.close();
  });
});

describe("S3", () => {
  let server: S3TestServer;
  before(async () => {
    server = await startS3Server();
    useS3Server(server);
  });
  after(() => server.stop());

  // A fresh blob cache per backend: reads from a second backend then come from the server.
  storageBackendContract("S3", async () => {
    const root = `s3://${server.bucket}/contract-${count++}`;
    return { open: () => openS3Backend(root, { cacheDir: freshDir("blob-cache") }) };
  });

  test("has no synchronous reads (tasks prefetch), and the listings above crossed S3's 1,000-key page", async () => {
    const backend = await openS3Backend(`s3://${server.bucket}/x`, { cacheDir: freshDir("blob-cache") });
    assert.equal(backend.syncReads, undefined);
    assert.equal(backend.kind, "s3");
    assert.equal(backend.location, `s3://${server.bucket}/x`);
    await backend.close();
    const continued = (await server.requests()).filter((r) => r.query.has("continuation-token"));
    assert.ok(continued.length >= 2, `${continued.length} listings went past a first page`);
  });
});
