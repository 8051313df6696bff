/**
 * The check before every open reads LMDB's free-page lists. One commit that frees many pages
 * (an artifact of 100 MB replaced) leaves a list larger than one read buffer: the check must
 * read it whole, not fail the open of a sound datastore. And a node whose value ends short of
 * what the check reads from it is a problem it reports, never an exception.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { open } from "lmdb";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";
import { lmdbFileProblems } from "../runtime/datastore/lmdb-file-check.js";

const dir = mkdtempSync(join(tmpdir(), "flowrun-lmdb-freelist-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a datastore whose free-page list spans many pages is sound and opens", async () => {
  const root = open({ path: dir, compression: false, noSync: true });
  const blobs = root.openDB({ name: "blobs", encoding: "binary" });
  await blobs.put("big", Buffer.alloc(100 * 1024 * 1024, 1));
  await blobs.put("big", Buffer.alloc(100 * 1024 * 1024, 2)); // frees ~25,600 pages in one commit
  await blobs.put("small", Buffer.alloc(10, 3)); // a later commit: the list is kept, not reused
  await root.close();

  assert.deepEqual(lmdbFileProblems(join(dir, "data.mdb")), []);
  const backend = new LmdbBackend(dir);
  assert.equal((await backend.getBlob("small"))?.length, 10);
  await backend.close();
});

/**
 * A small datastore with a free-page list (a value replaced, then another commit), as
 * bytes: `damage` edits one node, the file is written back and checked.
 */
async function problemsAfter(damage: (data: Buffer, page: { leafOf: (db: "free" | "main") => number; pageSize: number }) => void): Promise<string[]> {
  const path = mkdtempSync(join(tmpdir(), "flowrun-lmdb-damaged-"));
  try {
    const root = open({ path, compression: false, noSync: true });
    const records = root.openDB({ name: "records", encoding: "binary" });
    await records.put("a", Buffer.alloc(20_000, 1));
    await records.put("a", Buffer.alloc(20_000, 2)); // frees the first value's pages
    await records.put("b", Buffer.alloc(10, 3)); // a later commit: the list is kept
    await root.close();
    const file = join(path, "data.mdb");
    const data = readFileSync(file);
    const pageSize = data.readUInt32LE(24 + 24);
    const metaTxn = (page: number) => data.readBigUInt64LE(page * pageSize + 24 + 24 + 96 + 8);
    const meta = (metaTxn(0) > metaTxn(1) ? 0 : 1) * pageSize + 24;
    const leafOf = (db: "free" | "main") => {
      const record = meta + 24 + (db === "main" ? 48 : 0);
      assert.equal(data.readUInt16LE(record + 6), 1, `the ${db} DB is one leaf`);
      return Number(data.readBigUInt64LE(record + 40)) * pageSize;
    };
    damage(data, { leafOf, pageSize });
    writeFileSync(file, data);
    return lmdbFileProblems(file);
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

/** Makes the leaf's first node claim a `size`-byte value that ends where the page ends. */
function valueAtPageEnd(data: Buffer, leaf: number, pageSize: number, size: number): void {
  const node = 24 + data.readUInt16LE(leaf + 24); // in the page; its pointer counts from the header's end
  data.writeUInt16LE(size, leaf + node); // value size, low 16 bits
  data.writeUInt16LE(0, leaf + node + 2); // high bits
  data.writeUInt16LE(pageSize - size - (node + 8), leaf + node + 6); // key size, which places the value
}

// What a page torn by a concurrent commit can look like: read past its end, these threw a
// RangeError out of the check (and the open) instead of counting as a problem.
test("a free-page list shorter than its count is reported as damage, not thrown", async () => {
  const problems = await problemsAfter((data, { leafOf, pageSize }) => valueAtPageEnd(data, leafOf("free"), pageSize, 2));
  assert.deepEqual(problems, ["a free-page list of the free-page DB is shorter than its count"]);
});

test("a named DB's record cut short is reported as damage, not thrown", async () => {
  const problems = await problemsAfter((data, { leafOf, pageSize }) => valueAtPageEnd(data, leafOf("main"), pageSize, 8));
  assert.equal(problems.length, 1, problems.join("; "));
  assert.match(problems[0]!, /^page \d+ \(main DB\) points past its own end$/);
});
