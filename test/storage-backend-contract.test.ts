/**
 * The StorageBackend contract (test/support/storage-backend-contract.ts) run against every
 * backend: LMDB in a temporary directory, and S3 on a real S3-compatible server (s3rver in
 * a child process), each test under a prefix of its own in one bucket.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DatastoreError } from "../src/core/errors.js";
import { FILE_BLOB_BYTES } from "../runtime/datastore/blob-files.js";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";
import { openS3Backend } from "../runtime/datastore/s3-backend.js";
import { storageBackendContract } from "./support/storage-backend-contract.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { isolateFromAws, useS3Server } from "./fixtures/s3/test-stores.js";

const scratch = isolateFromAws();
after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const freshDir = (what: string) => mkdtempSync(join(scratch, `${what}-${count++}-`));
const MB = 2 ** 20;

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

  describe("blob files", () => {
    const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
    const fileOf = (dir: string, hash: string) => join(dir, "blobs", hash.slice(0, 2), hash);

    test(`a blob of ${FILE_BLOB_BYTES / MB} MiB or more is a file blobs/<ab>/<hash> holding exactly its bytes; smaller ones stay in data.mdb`, async (t) => {
      const dir = freshDir("lmdb");
      const backend = new LmdbBackend(dir);
      t.after(() => backend.close());
      const small = randomBytes(FILE_BLOB_BYTES - 1);
      const large = randomBytes(FILE_BLOB_BYTES);
      await backend.putBlob(sha256(small), small);
      await backend.putBlob(sha256(large), large);
      assert.equal(existsSync(fileOf(dir, sha256(small))), false);
      assert.equal(Buffer.compare(readFileSync(fileOf(dir, sha256(large))), large), 0);
      assert.deepEqual([...backend.blobHashes()], [sha256(small)], "data.mdb's blobs");
      assert.deepEqual([...backend.blobFileEntries()].map((e) => e.hash), [sha256(large)], "LMDB lists the file");
      assert.deepEqual(readdirSync(join(dir, "blobs", "tmp")), [], "no temporary file left");
    });

    test("a blob file that exists is not written again", async (t) => {
      const dir = freshDir("lmdb");
      const backend = new LmdbBackend(dir);
      t.after(() => backend.close());
      const bytes = randomBytes(5 * MB);
      await backend.putBlob(sha256(bytes), bytes);
      const before = statSync(fileOf(dir, sha256(bytes)));
      await backend.putBlob(sha256(bytes), bytes);
      const other = new LmdbBackend(dir);
      t.after(() => other.close());
      await other.putBlob(sha256(bytes), bytes);
      const after = statSync(fileOf(dir, sha256(bytes)));
      assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs]);
    });

    test("a file under a blob's name that LMDB does not list (its writer died before recording it) is written again, not trusted", async (t) => {
      const dir = freshDir("lmdb");
      const bytes = randomBytes(5 * MB);
      const file = fileOf(dir, sha256(bytes));
      mkdirSync(join(file, ".."), { recursive: true });
      writeFileSync(file, bytes.subarray(0, MB));
      const backend = new LmdbBackend(dir);
      t.after(() => backend.close());
      assert.equal(await backend.hasBlob(sha256(bytes)), false);
      assert.equal(await backend.getBlob(sha256(bytes)), undefined);
      await backend.putBlob(sha256(bytes), bytes);
      assert.equal(Buffer.compare(readFileSync(file), bytes), 0);
    });

    test("a blob file cut short or changed: every read throws a DatastoreError naming the file; a deleted one is missing", async (t) => {
      const dir = freshDir("lmdb");
      const backend = new LmdbBackend(dir);
      t.after(() => backend.close());
      const blobs = [randomBytes(5 * MB), randomBytes(5 * MB), randomBytes(5 * MB)];
      for (const bytes of blobs) await backend.putBlob(sha256(bytes), bytes);
      const [cut, changed, deleted] = blobs.map((bytes) => fileOf(dir, sha256(bytes))) as [string, string, string];
      truncateSync(cut, MB);
      const flipped = readFileSync(changed);
      flipped[12345]! ^= 1;
      writeFileSync(changed, flipped);
      rmSync(deleted);
      for (const [file, bytes, problem] of [[cut, blobs[0]!, /has 1048576 bytes where 5242880 were written/], [changed, blobs[1]!, /changed after it was written/]] as const) {
        const damaged = (e: unknown) => e instanceof DatastoreError && problem.test(e.message) && e.message.includes(file);
        await assert.rejects(backend.getBlob(sha256(bytes)), damaged);
        assert.throws(() => backend.syncReads.readBlobInto(sha256(bytes), Buffer.alloc(bytes.length), 0), damaged);
      }
      assert.equal(await backend.hasBlob(sha256(blobs[2]!)), false);
      assert.equal(await backend.getBlob(sha256(blobs[2]!)), undefined);
      assert.equal(backend.syncReads.readBlobInto(sha256(blobs[2]!), Buffer.alloc(5 * MB), 0), undefined);
    });

    test("a temporary file whose writer is gone is removed once it is old; a recent one is left alone", async (t) => {
      const dir = freshDir("lmdb");
      const tmp = join(dir, "blobs", "tmp");
      mkdirSync(tmp, { recursive: true });
      const deadPid = 2 ** 22 + 1; // above Linux's pid_max: no process has it
      const old = join(tmp, `${"a".repeat(64)}.${deadPid}.0011.tmp`);
      const recent = join(tmp, `${"b".repeat(64)}.${deadPid}.0022.tmp`);
      const mine = join(tmp, `${"c".repeat(64)}.${process.pid}.0033.tmp`);
      for (const file of [old, recent, mine]) writeFileSync(file, "partial");
      const hourAgo = Date.now() / 1000 - 3600;
      utimesSync(old, hourAgo, hourAgo);
      utimesSync(mine, hourAgo, hourAgo);
      const backend = new LmdbBackend(dir);
      t.after(() => backend.close());
      const bytes = randomBytes(5 * MB);
      await backend.putBlob(sha256(bytes), bytes);
      assert.deepEqual(readdirSync(tmp).sort(), [recent, mine].map((f) => f.split("/").at(-1)!).sort());
    });
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
