/**
 * Data too big for an artifact: `current.files` streams a 2 GB file into the datastore in
 * `start`, four foreach splits and `end` read it back, on the local datastore and on S3
 * (s3rver), with the run's memory bounded. Resume reads the files its cloned steps put
 * (Metaflow #664: objects written under the origin run's prefix were not found by the
 * resumed run); a damaged copy is caught, a cached one refetched; a ref to a file the
 * datastore lacks fails naming it.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, createReadStream, mkdtempSync, openSync, closeSync, readdirSync, rmSync, statSync, writeSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { FileStore } from "../runtime/datastore/file-store.js";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";
import { Flow, type FileRef } from "../src/index.js";
import { localStore, s3ServerPerFile, s3Store, type TestStore } from "./fixtures/s3/test-stores.js";
import { describeResult, inNamespace, REPO, runCli, type FlowRunResult } from "./support/flowrun-cli.js";

const FLOW = `${REPO}test/fixtures/files/LargeFileFlow.ts`;
const READ_REF = `${REPO}test/fixtures/files/ReadFileRefFlow.ts`;
/** How much more a worker thread, and the whole run (CLI and every worker), may peak at with the 2 GB file than with a 1 MB one. */
const MEMORY_GROWTH_BOUND_MB = 150;

const server = s3ServerPerFile();
const scratch = mkdtempSync(join(tmpdir(), "flowrun-large-files-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface TestFile {
  path: string;
  size: number;
  hash: string;
}

/** A file of `mib` MiB: one random MiB repeated, each copy stamped with its index (no two alike), hashed as written. */
function writeTestFile(name: string, mib: number): TestFile {
  const path = join(scratch, name);
  const block = randomBytes(1024 * 1024);
  const digest = createHash("sha256");
  const fd = openSync(path, "w");
  for (let i = 0; i < mib; i++) {
    block.writeUInt32LE(i, 0);
    digest.update(block);
    writeSync(fd, block);
  }
  closeSync(fd);
  return { path, size: mib * 1024 * 1024, hash: digest.digest("hex") };
}

async function sha256(path: string): Promise<string> {
  const digest = createHash("sha256");
  for await (const chunk of createReadStream(path)) digest.update(chunk);
  return digest.digest("hex");
}

let big: TestFile;
let small: TestFile;
before(() => {
  big = writeTestFile("big.bin", 2048);
  small = writeTestFile("small.bin", 1);
});

for (const kind of ["local", "s3"] as const) {
  describe(`a 2 GB file put in start and read by 4 splits and end, ${kind} datastore`, () => {
    let store: TestStore;
    let baseline: FlowRunResult;
    let result: FlowRunResult;
    before(async () => {
      store = kind === "local" ? localStore() : s3Store(server(), "large");
      // As many workers alive for as long as with the large file: the baseline differs by the file alone.
      baseline = await store.run(FLOW, ["--source", small.path, "--hold-ms", "5000"]);
      result = await store.run(FLOW, ["--source", big.path]);
    });
    after(() => store.remove());

    test("every split and the end read exactly the bytes put", async () => {
      assert.equal(baseline.code, 0, describeResult(baseline));
      assert.equal(result.code, 0, describeResult(result));
      const run = await store.read(`LargeFileFlow/${result.runId}`);
      assert.deepEqual(await run.artifact("corpus"), { name: "big.bin", size: big.size, hash: big.hash });
      const splits = await (await run.step("read")).tasks();
      assert.equal(splits.length, 4);
      for (const split of splits) assert.equal(await split.artifact("digest"), big.hash, `${split.pathspec} read other bytes`);
      assert.equal(await run.artifact("digest"), big.hash, "end, through current.files.path");
    });

    test("the same bytes put again (as a stream, in end) are the same file, stored once", async () => {
      const run = await store.read(`LargeFileFlow/${result.runId}`);
      assert.deepEqual(await run.artifact("again"), { name: "again.bin", size: big.size, hash: big.hash });
      const blob = `blobs/${big.hash.slice(0, 2)}/${big.hash}`;
      if (kind === "s3") {
        assert.equal(await server().objectWrites(blob), 1, "uploaded once");
      } else {
        const file = join(store.datastore.root, blob);
        assert.equal(statSync(file).size, big.size);
        assert.equal(statSync(file).mode & 0o222, 0, "the datastore's copy is read-only");
      }
    });

    test(`memory: each worker thread and the whole run peak at most ${MEMORY_GROWTH_BOUND_MB} MB above the same flow on a 1 MB file`, async () => {
      const run = await store.read(`LargeFileFlow/${result.runId}`);
      const threads: string[] = [];
      for (const step of await run.steps()) {
        for (const task of await step.tasks()) {
          const growth = await task.artifact<number>("threadGrowthMb");
          threads.push(`${step.name} ${growth.toFixed(0)}`);
          assert.ok(growth <= MEMORY_GROWTH_BOUND_MB, `${task.pathspec}: its thread's memory grew by ${growth.toFixed(0)} MB`);
        }
      }
      const peak = async (runId: string) => (await store.read(`LargeFileFlow/${runId}`)).artifact<number>("peakRssMb");
      const [withBig, withSmall] = [await peak(result.runId), await peak(baseline.runId)];
      const growth = withBig - withSmall;
      console.log(`# ${kind}: thread growth (MB) ${threads.join(", ")}; run's peak RSS ${withSmall.toFixed(0)} MB with 1 MB, ${withBig.toFixed(0)} MB with 2 GB (+${growth.toFixed(0)} MB)`);
      assert.ok(growth <= MEMORY_GROWTH_BOUND_MB, `peak RSS grew by ${growth.toFixed(0)} MB`);
    });

    test("the client and `flowrun dump --file` give the file's bytes", async () => {
      const end = await (await store.read(`LargeFileFlow/${baseline.runId}`)).endTask();
      assert.equal(await sha256(await end.file("corpus")), small.hash, "by artifact name");
      assert.equal(await sha256(await end.file("again.bin")), small.hash, "by the name it was put with");
      const ref = await end.artifact<FileRef>("corpus");
      assert.equal(await sha256(await end.file(ref)), small.hash, "by ref");
      const out = join(scratch, `dumped-${kind}`);
      const dumped = await runCli(["dump", `LargeFileFlow/${baseline.runId}`, "--file", "corpus", "--out", out], { env: store.env });
      assert.equal(dumped.code, 0, describeResult(dumped));
      assert.equal(await sha256(out), small.hash);
      rmSync(out);
    });
  });

  describe(`resume on the ${kind} datastore (Metaflow #664)`, () => {
    test("a resumed run reads the file its cloned start put", async () => {
      const store = kind === "local" ? localStore() : s3Store(server(), "resume");
      try {
        const failed = await store.run(FLOW, ["--source", small.path, "--splits", "2"], { env: { LARGE_FILE_FAIL_IN_END: "1" } });
        assert.equal(failed.code, 1, describeResult(failed));
        // A fresh file cache: the resumed run must find the file in the datastore, not on this machine.
        const env = { ...store.env, FLOWRUN_CACHE_DIR: join(scratch, `resume-cache-${kind}`) };
        const resumed = await runCli(["resume", FLOW, "--origin-run-id", failed.runId], { env });
        assert.equal(resumed.code, 0, describeResult(resumed));
        const run = await inNamespace(null, () => new Flow("LargeFileFlow", { datastore: store.datastore }).latestRun());
        assert.notEqual(run.id, failed.runId, "a new run");
        assert.ok((await (await run.step("start")).task()).clonedFrom, "start was cloned, not re-run");
        assert.deepEqual(await run.artifact("corpus"), { name: "small.bin", size: small.size, hash: small.hash });
        assert.equal(await run.artifact("digest"), small.hash);
      } finally {
        store.remove();
      }
    });
  });
}

describe("damaged, missing and shared files", () => {
  let store: TestStore;
  let runId: string;
  before(async () => {
    store = localStore();
    const result = await store.run(FLOW, ["--source", small.path, "--splits", "1"]);
    assert.equal(result.code, 0, describeResult(result));
    runId = result.runId;
  });
  after(() => store.remove());

  test("a FileRef another run put is read by a run in the same datastore", async () => {
    const ref = await (await store.read(`LargeFileFlow/${runId}`)).artifact<FileRef>("corpus");
    const result = await store.run(READ_REF, ["--ref", JSON.stringify(ref)]);
    assert.equal(result.code, 0, describeResult(result));
    assert.equal(await (await store.read(`ReadFileRefFlow/${result.runId}`)).artifact("digest"), small.hash);
  });

  test("a ref to a file the datastore lacks fails its task with one line naming the file", async () => {
    const ghost: FileRef = { name: "ghost.bin", size: 5, hash: "0".repeat(64) };
    const result = await store.run(READ_REF, ["--ref", JSON.stringify(ghost)]);
    assert.equal(result.code, 1, describeResult(result));
    assert.match(result.stderr, /file 'ghost\.bin' \(sha256 000000000000, 5 bytes\) is not in the datastore /);
  });

  test("a damaged local copy fails the read naming the file, never giving other bytes", async () => {
    const file = join(store.datastore.root, "blobs", small.hash.slice(0, 2), small.hash);
    chmodSync(file, 0o644);
    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.from("damage"), 0, 6, 1000);
    closeSync(fd);
    const out = join(scratch, "damaged-out");
    const dumped = await runCli(["dump", `LargeFileFlow/${runId}`, "--file", "corpus", "--out", out], { env: store.env });
    assert.equal(dumped.code, 2, describeResult(dumped));
    assert.match(dumped.stderr, new RegExp(`blob file .*${small.hash} is damaged: it changed after it was written`));
    assert.throws(() => statSync(out), "nothing written");
  });
});

describe("a damaged cached copy of an S3 file", () => {
  test("is detected, removed and downloaded again", async () => {
    const store = s3Store(server(), "cache");
    const cache = join(scratch, "damaged-cache");
    const env = { ...store.env, FLOWRUN_CACHE_DIR: cache };
    const result = await store.run(FLOW, ["--source", small.path, "--splits", "1"], { env });
    assert.equal(result.code, 0, describeResult(result));
    const cached = join(cache, small.hash.slice(0, 2), small.hash);
    assert.equal(await sha256(cached), small.hash, "the run cached the file");
    const fd = openSync(cached, "r+");
    writeSync(fd, Buffer.from("damage"), 0, 6, 1000);
    closeSync(fd);
    const out = join(scratch, "refetched");
    const dumped = await runCli(["dump", `LargeFileFlow/${result.runId}`, "--file", "corpus", "--out", out], { env });
    assert.equal(dumped.code, 0, describeResult(dumped));
    assert.match(dumped.stderr, /cached file .* did not match its hash .* downloading it again/);
    assert.equal(await sha256(out), small.hash, "the bytes put, not the damaged ones");
    assert.equal(await sha256(cached), small.hash, "the cache holds the right bytes again");
  });
});

describe("current.files.put takes", () => {
  let backend: LmdbBackend;
  let files: FileStore;
  before(() => {
    backend = new LmdbBackend(join(scratch, "put-inputs"));
    files = new FileStore(backend);
  });
  after(() => backend.close());

  test("a path, a URL, a Node stream, a web stream and an async iterable of chunks: the same bytes, the same ref", async () => {
    const expected = { size: small.size, hash: small.hash };
    const refs = [
      await files.put(small.path),
      await files.put(new URL(`file://${small.path}`), { name: "by-url" }),
      await files.put(createReadStream(small.path), { name: "node" }),
      await files.put(Readable.toWeb(createReadStream(small.path)) as ReadableStream<Uint8Array>, { name: "web" }),
      await files.put((async function* () { yield readFileSync(small.path); })(), { name: "chunks" }),
    ];
    assert.deepEqual(refs.map((r) => r.name), ["small.bin", "by-url", "node", "web", "chunks"]);
    for (const ref of refs) assert.deepEqual({ size: ref.size, hash: ref.hash }, expected);
    assert.deepEqual(readdirSync(join(scratch, "put-inputs", "blobs", small.hash.slice(0, 2))), [small.hash]);
    assert.equal(await sha256(await files.path(refs[3]!)), small.hash);
  });

  test("a stream that fails midway: put fails with the stream's own error, and leaves no file behind", async () => {
    const failing = (async function* () {
      yield randomBytes(1000);
      throw new Error("the network went away");
    })();
    await assert.rejects(files.put(failing), (error: Error) => error.message === "the network went away");
    assert.deepEqual(readdirSync(join(scratch, "put-inputs", "blobs", "tmp")), [], "the partial copy was removed");
  });

  test("not a missing path, a directory or a number, each refused in one line", async () => {
    await assert.rejects(files.put(join(scratch, "nope.bin")), /current\.files\.put: .*nope\.bin does not exist/);
    await assert.rejects(files.put(scratch), /current\.files\.put: .* is not a file/);
    await assert.rejects(files.put(42 as never), /takes a file path, a URL or a stream of bytes, not number/);
    await assert.rejects(files.path({ name: "x" } as FileRef), /not a FileRef/);
  });
});
