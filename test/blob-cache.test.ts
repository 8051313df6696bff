/**
 * The local blob cache in front of S3 is checked on every read: a cached file changed on
 * disk is never served. The client gets the right value, downloaded again, and the cache
 * file is replaced by the real bytes.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { encodeArtifact } from "../runtime/datastore/artifact-codec.js";
import { blobHash } from "../runtime/datastore/blob-hash.js";
import { describeResult, exampleFlow } from "./support/flowrun-cli.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { isolateFromAws, s3Store, useS3Server } from "./fixtures/s3/test-stores.js";

const scratch = isolateFromAws();
after(() => rmSync(scratch, { recursive: true, force: true }));

describe("a blob cache file changed on disk", () => {
  let server: S3TestServer;
  before(async () => {
    server = await startS3Server();
    useS3Server(server);
  });
  after(() => server?.stop());

  test("is not served: the client reads the real value and the file is repaired", async () => {
    const store = s3Store(server, "tampered-cache");
    const result = await store.run(exampleFlow("Hello.ts"), ["--name", "cache"]);
    assert.equal(result.code, 0, describeResult(result));
    const task = await (await (await store.read(`HelloFlow/${result.runId}`)).step("start")).task();
    const ref = task.metadata.artifacts!.greeting!;
    const file = join(process.env.FLOWRUN_CACHE_DIR!, ref.hash.slice(0, 2), ref.hash);
    assert.equal(blobHash(readFileSync(file)), ref.hash, "the run cached what it wrote");

    writeFileSync(file, encodeArtifact("greeting", "Hello, mallory!").bytes);
    const readsBefore = await server.objectReads(ref.hash);
    assert.equal(await task.artifact("greeting"), "Hello, cache!");
    assert.equal(blobHash(readFileSync(file)), ref.hash, "the cache file holds the real bytes again");
    assert.equal(await server.objectReads(ref.hash), readsBefore + 1, "downloaded once to repair it");
    assert.equal(await task.artifact("greeting"), "Hello, cache!");
    assert.equal(await server.objectReads(ref.hash), readsBefore + 1, "then served from the cache again");
  });
});
