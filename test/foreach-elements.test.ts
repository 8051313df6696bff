/**
 * A foreach's elements are saved together (`ContentStore.saveEach`): each comes back as the
 * value it was, equal elements share one blob, and an element above the backend's blob limit
 * is chunked like any large artifact. On a real LMDB datastore.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ContentStore } from "../runtime/datastore/content-store.js";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";
import type { StorageBackend } from "../runtime/datastore/storage-backend.js";

const dir = mkdtempSync(join(tmpdir(), "flowrun-foreach-elements-"));
const backend = new LmdbBackend(dir);
after(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

test("every element comes back as it was, and equal elements are one blob", async () => {
  const store = new ContentStore(backend);
  const elements = [1, "one", { a: [1, 2] }, 1, new Float64Array([0.5, 1.5]), Buffer.from("bytes"), { a: [1, 2] }, null];
  const refs = await store.saveEach("items", elements);
  assert.equal(refs.length, elements.length);
  for (const [i, ref] of refs.entries()) assert.deepStrictEqual(store.loadSync(ref, `items[${i}]`), elements[i], `element ${i}`);
  assert.equal(refs[3]!.hash, refs[0]!.hash);
  assert.equal(refs[6]!.hash, refs[2]!.hash);
  assert.equal(new Set(refs.map((r) => r.hash)).size, 6);
  for (const ref of refs) assert.ok(await backend.hasBlob(ref.hash), `blob ${ref.hash} stored`);
});

test("an element above the backend's blob limit is stored as chunks, and reads back whole", async () => {
  // The same LMDB datastore, taking blobs of at most 1 kB (as S3 takes 64 MB parts).
  const small: StorageBackend = Object.assign(Object.create(backend) as StorageBackend, { maxBlobBytes: 1024 });
  const store = new ContentStore(small);
  const large = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
  const refs = await store.saveEach("items", ["small", large]);
  assert.equal(refs[0]!.chunks, undefined);
  assert.ok(refs[1]!.chunks, "the large element was stored as chunks");
  assert.deepStrictEqual(await store.load(refs[1]!, "items[1]"), large);
  assert.equal(await store.load(refs[0]!, "items[0]"), "small");
});
