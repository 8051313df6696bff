/**
 * What every StorageBackend promises (runtime/datastore/storage-backend.ts), as one suite
 * of node:test tests that a test file runs against each real backend. Everything above the
 * interface (content store, commit protocol, metadata, client) relies on these promises
 * alone, so a new backend that passes this suite can be swapped in.
 *
 * Each test gets a datastore of its own; `open()` on it may be called again, as another
 * thread or process would, and must see the same data. Reads are made from a second
 * backend wherever a first backend's caches could answer instead of the store.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { DatastoreError, DatastoreWriteError } from "../../src/core/errors.js";
import type { StorageBackend } from "../../runtime/datastore/storage-backend.js";

/** One empty datastore for one test. */
export interface ContractDatastore {
  /** A new backend on this datastore's data. */
  open(): Promise<StorageBackend>;
}

const MB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Keys as the metadata layer writes them: a flow or step name is any TypeScript identifier
 * (non-ASCII letters, astral ones included), a tag segment is percent-encoded UTF-8.
 * `Ａ` (U+FF21) and `𝒜` (U+1D49C) sort one way by UTF-16 code unit and the other by UTF-8 byte.
 */
const METADATA_KEYS = [
  "runs/Ünïcödé/1700000000000",
  "tasks/日本語Flow/17/step/1",
  "tasks/F/1/Ａ/1",
  "tasks/F/1/𝒜/1",
  "tags/F/1/a%2Fb%20c",
  "tags/F/1/100%25",
  "tags/F/1/%2E%2E",
  "logs/F/1/start/1/0/stdout/000000000001",
  "a key with spaces/and ~ tilde",
];

/** Registers the contract's tests for one backend under `describe(name)`. */
export function storageBackendContract(name: string, newDatastore: () => Promise<ContractDatastore>): void {
  /** A backend on a fresh datastore, and a way to open more on it; all closed after the test. */
  async function fresh(t: TestContext): Promise<{ store: StorageBackend; reopen(): Promise<StorageBackend> }> {
    const datastore = await newDatastore();
    const reopen = async () => {
      const backend = await datastore.open();
      t.after(() => backend.close());
      return backend;
    };
    return { store: await reopen(), reopen };
  }

  describe(`StorageBackend contract: ${name}`, () => {
    test("names itself for messages: a kind and a location", async (t) => {
      const { store } = await fresh(t);
      assert.ok(typeof store.kind === "string" && store.kind.length > 0);
      assert.ok(typeof store.location === "string" && store.location.length > 0);
    });

    describe("blobs", () => {
      test("read back byte for byte, from another backend on the same data too: empty, small, 5 MB", async (t) => {
        const { store, reopen } = await fresh(t);
        const blobs = [new Uint8Array(0), Uint8Array.of(0), randomBytes(1000), randomBytes(5 * MB)];
        for (const bytes of blobs) {
          const hash = sha256(bytes);
          assert.equal(await store.hasBlob(hash), false);
          await store.putBlob(hash, bytes);
          assert.equal(await store.hasBlob(hash), true);
          assert.deepEqual(Buffer.from((await store.getBlob(hash))!), Buffer.from(bytes));
        }
        const other = await reopen();
        for (const bytes of blobs) {
          assert.equal(await other.hasBlob(sha256(bytes)), true);
          const back = await other.getBlob(sha256(bytes));
          assert.ok(back instanceof Uint8Array, `a Uint8Array for ${bytes.length} bytes`);
          assert.equal(Buffer.compare(back, bytes), 0, `${bytes.length} bytes back exactly`);
        }
      });

      test("a missing blob is undefined, and hasBlob says false", async (t) => {
        const { store } = await fresh(t);
        const hash = sha256(Buffer.from("never stored"));
        assert.equal(await store.hasBlob(hash), false);
        assert.equal(await store.getBlob(hash), undefined);
      });

      test("putting a blob that exists is a no-op, from any backend: the first bytes stay", async (t) => {
        const { store, reopen } = await fresh(t);
        const first = randomBytes(100);
        const hash = sha256(first);
        await store.putBlob(hash, first);
        // Equal hashes always mean equal bytes; different ones make the no-op observable.
        await store.putBlob(hash, randomBytes(100));
        await (await reopen()).putBlob(hash, randomBytes(200));
        assert.deepEqual(Buffer.from((await (await reopen()).getBlob(hash))!), first);
      });

      test("bytes read are the caller's: changing them changes nothing stored", async (t) => {
        const { store } = await fresh(t);
        const bytes = randomBytes(64);
        const hash = sha256(bytes);
        await store.putBlob(hash, bytes);
        (await store.getBlob(hash))!.fill(0);
        assert.deepEqual(Buffer.from((await store.getBlob(hash))!), bytes);
      });

      test("synchronous reads, where offered, copy the blob into the caller's buffer at an offset; missing is undefined", async (t) => {
        const { store, reopen } = await fresh(t);
        if (!store.syncReads) return t.skip(`${name} offers no synchronous reads: tasks prefetch instead`);
        const blobs = [new Uint8Array(0), randomBytes(10), randomBytes(3000), randomBytes(5 * MB)];
        for (const bytes of blobs) await store.putBlob(sha256(bytes), bytes);
        const reader = (await reopen()).syncReads!;
        for (const bytes of [...blobs, ...blobs.reverse()]) {
          const target = Buffer.alloc(bytes.length + 10, 0xee);
          assert.equal(reader.readBlobInto(sha256(bytes), target, 3), bytes.length, `${bytes.length} bytes read`);
          assert.equal(Buffer.compare(target.subarray(3, 3 + bytes.length), bytes), 0, `${bytes.length} bytes read synchronously`);
          assert.ok(target.subarray(0, 3).every((b) => b === 0xee) && target.subarray(3 + bytes.length).every((b) => b === 0xee), "nothing else written");
        }
        assert.equal(reader.readBlobInto(sha256(Buffer.from("never stored")), Buffer.alloc(10), 0), undefined);
      });

      test("a synchronous read into a buffer too small for the blob throws a DatastoreError", async (t) => {
        const { store } = await fresh(t);
        if (!store.syncReads) return t.skip(`${name} offers no synchronous reads`);
        for (const bytes of [randomBytes(100), randomBytes(5 * MB)]) {
          await store.putBlob(sha256(bytes), bytes);
          assert.throws(() => store.syncReads!.readBlobInto(sha256(bytes), Buffer.alloc(bytes.length), 1), DatastoreError);
        }
      });

      test("a backend that takes blobs larger than the content store's 64 MiB chunks reads them back whole: 70 MB", async (t) => {
        const { store, reopen } = await fresh(t);
        if (store.maxBlobBytes === undefined) return t.skip(`${name} takes blobs up to 64 MiB: larger artifacts are chunked`);
        assert.ok(store.maxBlobBytes >= 70 * MB);
        const bytes = randomBytes(70 * MB);
        const hash = sha256(bytes);
        await store.putBlob(hash, bytes);
        assert.equal(Buffer.compare((await (await reopen()).getBlob(hash))!, bytes), 0);
      });
    });

    describe("files (current.files)", () => {
      /** A file of `bytes` in a fresh temporary directory. */
      function localFile(t: TestContext, bytes: Uint8Array): string {
        const dir = mkdtempSync(join(tmpdir(), "flowrun-contract-file-"));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        writeFileSync(join(dir, "data.bin"), bytes);
        return join(dir, "data.bin");
      }

      test("a path or a stream put comes back by hash as a local file with the same bytes, from another backend too: empty, 1 KB, 20 MB", async (t) => {
        const { store, reopen } = await fresh(t);
        for (const bytes of [new Uint8Array(0), randomBytes(1000), randomBytes(20 * MB)]) {
          const expected = { hash: sha256(bytes), size: bytes.length };
          assert.deepEqual(await store.putFile({ path: localFile(t, bytes) }), expected);
          const stream = (async function* () {
            for (let at = 0; at < bytes.length; at += 3 * MB) yield bytes.subarray(at, at + 3 * MB);
          })();
          assert.deepEqual(await store.putFile({ stream }), expected, "a stream of the same bytes is the same file");
          const path = await (await reopen()).localFile(expected.hash, expected.size);
          assert.ok(path, `${bytes.length} bytes found`);
          assert.equal(Buffer.compare(readFileSync(path), bytes), 0, `${bytes.length} bytes back exactly`);
        }
      });

      test("a file the datastore lacks, or asked for with another size, is undefined", async (t) => {
        const { store } = await fresh(t);
        const bytes = randomBytes(100);
        await store.putFile({ path: localFile(t, bytes) });
        assert.equal(await store.localFile(sha256(Buffer.from("never put")), 9), undefined);
        assert.equal(await store.localFile(sha256(bytes), 99), undefined);
      });
    });

    describe("records", () => {
      test("read back as the JSON value written; a missing record is undefined, null is not missing", async (t) => {
        const { store, reopen } = await fresh(t);
        const values: Record<string, unknown> = {
          "v/null": null, "v/false": false, "v/true": true, "v/zero": 0, "v/number": -1.5e-7, "v/empty": "",
          "v/string": "naïve 日本 🎉 \"quoted\" \\ \n", "v/array": [], "v/object": {},
          "v/nested": { a: [1, "two", null, { b: { c: [true] } }], "key with space": "x" },
        };
        await store.putRecords(Object.entries(values).map(([key, value]) => ({ key, value })));
        const other = await reopen();
        for (const [key, value] of Object.entries(values)) assert.deepEqual(await other.getRecord(key), value, key);
        assert.equal(await other.getRecord("v/missing"), undefined);
        const keys = ["v/nested", "v/missing", ...Object.keys(values), "v/null"];
        assert.deepEqual(await other.getRecords(keys), keys.map((key) => values[key]), "getRecords: each key's value in order, undefined where missing");
        assert.ok((await other.listKeys("v/")).includes("v/null"));
      });

      test("a batch is written in order: a key given twice keeps its last value; a later batch overwrites", async (t) => {
        const { store, reopen } = await fresh(t);
        await store.putRecords([{ key: "k/a", value: 1 }, { key: "k/b", value: 1 }, { key: "k/a", value: 2 }]);
        await store.putRecords([{ key: "k/b", value: 3 }]);
        await store.putRecords([]);
        const other = await reopen();
        assert.deepEqual(await other.listRecords("k/"), [{ key: "k/a", value: 2 }, { key: "k/b", value: 3 }]);
      });

      test("a batch's last record (a done-marker) is never seen before the records ahead of it", async (t) => {
        const { store, reopen } = await fresh(t);
        const reader = await reopen();
        for (let round = 0; round < 3; round++) {
          const keys = Array.from({ length: 20 }, (_, i) => `b/${round}/part-${String(i).padStart(2, "0")}`);
          let written = false;
          const write = store.putRecords([...keys, `b/${round}/zz-done`].map((key) => ({ key, value: key }))).then(() => (written = true));
          let sawDone = false;
          while (!sawDone) {
            await nextTurn();
            const finishedBefore = written; // a read that starts after the batch finished must see it
            sawDone = (await reader.getRecord(`b/${round}/zz-done`)) !== undefined;
            if (sawDone) assert.deepEqual(await reader.listKeys(`b/${round}/part-`), keys, "every earlier record is visible");
            else if (finishedBefore) assert.fail("the batch finished but its last record is not visible");
          }
          await write;
        }
      });

      test("a batch holding a value JSON cannot represent is refused, names the key and writes nothing", async (t) => {
        const { store } = await fresh(t);
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        for (const [what, value] of [["undefined", undefined], ["a function", () => 1], ["a BigInt", 10n], ["a cycle", cyclic]] as const) {
          const error = await store.putRecords([{ key: "bad/first", value: 1 }, { key: "bad/value", value }]).then(
            () => assert.fail(`${what} was accepted`),
            (e: unknown) => e,
          );
          assert.ok(error instanceof DatastoreError, `${what}: ${String(error)}`);
          assert.ok(!(error instanceof DatastoreWriteError), `${what}: the value, not the datastore, is at fault: ${error.message}`);
          assert.match(error.message, /bad\/value/, what);
          assert.deepEqual(await store.listKeys("bad/"), [], `${what}: nothing written`);
        }
      });

      test("listKeys and listRecords: every key starting with the prefix, in JS string order", async (t) => {
        const { store, reopen } = await fresh(t);
        const keys = ["a/b", "a/b/c", "a/b/~", "a/b0", "a/bc", "a/bc/d", "a/b c", "a/b/Ａ", "a/b/𝒜", "a/b/é", "a/c", "b", "a"];
        await store.putRecords(keys.map((key) => ({ key, value: { key } })));
        const other = await reopen();
        const under = (prefix: string) => keys.filter((k) => k.startsWith(prefix)).sort();
        for (const prefix of ["a/b", "a/b/", "a/bc", "a/bc/", "a/b/Ａ", "a/", "", "a/bcd", "z"]) {
          assert.deepEqual(await other.listKeys(prefix), under(prefix), `listKeys(${JSON.stringify(prefix)})`);
          const records = await other.listRecords<{ key: string }>(prefix);
          assert.deepEqual(records.map((r) => r.key), under(prefix), `listRecords(${JSON.stringify(prefix)})`);
          assert.ok(records.every((r) => r.value.key === r.key), "each value is its own record's");
        }
      });

      test("iterateRecords: every record starting with the prefix, in UTF-8 byte order; stopping early is fine", async (t) => {
        const { store, reopen } = await fresh(t);
        // No key is another's prefix, as log chunk keys are not: s3rver lists its files
        // (`<key>._S3rver_object`, directories) in directory order, `i/a/x`, `i/a b`, `i/a`,
        // where S3 and LMDB list in UTF-8 order.
        const keys = ["i/b", "i/Ａ", "i/𝒜", "i/é", "i/a b", "i/a-x", "i/c~", "ii", "h"];
        await store.putRecords(keys.map((key) => ({ key, value: key })));
        const other = await reopen();
        const seen: Array<{ key: string; value: string }> = [];
        for await (const record of other.iterateRecords<string>("i/")) seen.push(record);
        const expected = keys.filter((k) => k.startsWith("i/")).sort(utf8Order);
        assert.deepEqual(seen, expected.map((key) => ({ key, value: key })));
        for await (const record of other.iterateRecords<string>("i/")) {
          assert.equal(record.key, expected[0]);
          break;
        }
        assert.deepEqual(await collect(other.iterateRecords("nothing/")), []);
      });

      test("more than one S3 listing page (1,100 records): listed and iterated whole, in order", async (t) => {
        const { store, reopen } = await fresh(t);
        const keys = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(5, "0")}`).reverse();
        const batches = Array.from({ length: 16 }, (_, b) => keys.filter((_, i) => i % 16 === b));
        await Promise.all(batches.map((batch) => store.putRecords(batch.map((key) => ({ key, value: { key } })))));
        await store.putRecords([{ key: "many0", value: 0 }, { key: "man", value: 0 }]);
        const other = await reopen();
        const sorted = [...keys].sort();
        assert.deepEqual(await other.listKeys("many/"), sorted);
        const listed = await other.listRecords<{ key: string }>("many/");
        assert.deepEqual(listed.map((r) => r.key), sorted);
        assert.ok(listed.every((r) => r.value.key === r.key));
        const iterated = await collect(other.iterateRecords<{ key: string }>("many/"));
        assert.deepEqual(iterated.map((r) => r.key), sorted);
        assert.ok(iterated.every((r) => r.value.key === r.key));
      });

      test("keys as the metadata layer writes them (unicode, percent-encoding, spaces) round-trip exactly", async (t) => {
        const { store, reopen } = await fresh(t);
        await store.putRecords(METADATA_KEYS.map((key, i) => ({ key, value: i })));
        const other = await reopen();
        assert.deepEqual(await other.listKeys(""), [...METADATA_KEYS].sort());
        for (const [i, key] of METADATA_KEYS.entries()) {
          assert.equal(await other.getRecord(key), i, key);
          const parent = key.slice(0, key.lastIndexOf("/") + 1);
          assert.ok((await other.listKeys(parent)).includes(key), `${key} listed under ${parent}`);
        }
        assert.deepEqual(await other.listKeys("tags/F/1/100%"), ["tags/F/1/100%25"], "% in a prefix is a plain character");
        await other.deleteRecord("tags/F/1/a%2Fb%20c");
        assert.equal(await store.getRecord("tags/F/1/a%2Fb%20c"), undefined);
        assert.deepEqual(await other.listKeys("tags/F/1/"), ["tags/F/1/%2E%2E", "tags/F/1/100%25"]);
      });

      test("deleteRecord removes that key alone; deleting a missing key is a no-op", async (t) => {
        const { store, reopen } = await fresh(t);
        await store.putRecords(["d/x", "d/x/y", "d/xy", "d/w"].map((key) => ({ key, value: 1 })));
        await store.deleteRecord("d/x");
        await store.deleteRecord("d/x");
        await store.deleteRecord("d/never");
        const other = await reopen();
        assert.equal(await other.getRecord("d/x"), undefined);
        assert.deepEqual(await other.listKeys("d/"), ["d/w", "d/x/y", "d/xy"]);
        assert.deepEqual((await other.listRecords("d/")).map((r) => r.key), ["d/w", "d/x/y", "d/xy"]);
        assert.deepEqual((await collect(other.iterateRecords("d/"))).map((r) => r.key), ["d/w", "d/x/y", "d/xy"]);
      });

      test("replaceRecord: the new record present, the old gone; a missing old key or the same key is fine", async (t) => {
        const { store, reopen } = await fresh(t);
        await store.putRecords([{ key: "r/old", value: "old" }, { key: "r/other", value: 0 }]);
        await store.replaceRecord("r/old", { key: "r/new", value: "new" });
        await store.replaceRecord("r/absent", { key: "r/fresh", value: 1 });
        await store.replaceRecord("r/other", { key: "r/other", value: 2 });
        const other = await reopen();
        assert.deepEqual(await other.listRecords("r/"), [
          { key: "r/fresh", value: 1 }, { key: "r/new", value: "new" }, { key: "r/other", value: 2 },
        ]);
      });

      test("replaceRecord: a reader may see both records for a moment, never neither", async (t) => {
        const { store, reopen } = await fresh(t);
        const reader = await reopen();
        await store.putRecords([{ key: "s/0", value: 0 }]);
        for (let i = 1; i <= 5; i++) {
          let done = false;
          const replace = store.replaceRecord(`s/${i - 1}`, { key: `s/${i}`, value: i }).then(() => (done = true));
          do {
            await nextTurn();
            const keys = await reader.listKeys("s/");
            assert.ok(keys.includes(`s/${i - 1}`) || keys.includes(`s/${i}`), `neither s/${i - 1} nor s/${i} in ${keys}`);
          } while (!done);
          await replace;
        }
        assert.deepEqual(await reader.listKeys("s/"), ["s/5"]);
      });
    });

    test("close() resolves, and what was written is there when the datastore is opened again", async (t) => {
      const datastore = await newDatastore();
      const store = await datastore.open();
      const bytes = randomBytes(2000);
      await store.putBlob(sha256(bytes), bytes);
      await store.putRecords([{ key: "c/1", value: "kept" }]);
      await store.close();
      const again = await datastore.open();
      t.after(() => again.close());
      assert.deepEqual(Buffer.from((await again.getBlob(sha256(bytes)))!), bytes);
      assert.equal(await again.getRecord("c/1"), "kept");
    });
  });
}

/** Lets I/O callbacks run: an LMDB commit resolves from one, and awaiting a memory-mapped read never yields. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function collect<T>(records: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const record of records) out.push(record);
  return out;
}
