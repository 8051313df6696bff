/**
 * The check before every open reads LMDB's free-page lists. One commit that frees many pages
 * (an artifact of 100 MB replaced) leaves a list larger than one read buffer: the check must
 * read it whole, not fail the open of a sound datastore.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
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
