/**
 * Large artifacts on the local datastore are files beside LMDB (`blobs/<ab>/<hash>`, see
 * runtime/metadata/COMMIT-PROTOCOL.md): a 100 MB typed array and a large msgpack value come
 * back byte for byte through a real run; a blob file cut short, changed or deleted fails the
 * read with one line naming the artifact and the file, and `flowrun datastore verify` names
 * it; a run killed while it writes a blob leaves a datastore that verifies clean and resumes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { open as openLmdb } from "lmdb";
import { CHUNK_BYTES, ContentStore } from "../runtime/datastore/content-store.js";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";
import { DatastoreError, Flow, type Run, type Task } from "../src/index.js";
import { largeFloats, largeRows } from "./fixtures/flows/large-values.js";
import { describeResult, fixtureFlow, inNamespace, readRun, REPO, runCli, runFlowCli, tempDatastore, type TempDatastore } from "./support/flowrun-cli.js";

const FLOW = fixtureFlow("large-artifact.ts");
const MB = 2 ** 20;

const task = async (run: Run, step: string): Promise<Task> => (await run.step(step)).task();
const refOf = (t: Task, name: string) => t.metadata.artifacts?.[name];
const blobFile = (store: TempDatastore, hash: string) => join(store.root, "blobs", hash.slice(0, 2), hash);
const asBytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Every file under `<datastore>/blobs`, relative to it. */
function blobDirectory(store: TempDatastore): string[] {
  const dir = join(store.root, "blobs");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe("a 100 MB artifact through a run", () => {
  const store = tempDatastore();
  after(() => store.remove());
  let run: Run;
  before(async () => {
    const result = await runFlowCli(FLOW, ["--mb", "100", "--quiet"], store);
    assert.equal(result.code, 0, describeResult(result));
    run = await readRun(`LargeArtifactFlow/${result.runId}`, store);
  });

  test("comes back byte for byte, in the next step and through the client", async () => {
    assert.equal(await run.artifact("mismatches"), 0, "the check step found every element in place");
    const data = await (await task(run, "start")).artifact<Float64Array>("data");
    assert.ok(data instanceof Float64Array);
    assert.equal(data.byteLength, 100 * MB);
    assert.equal(Buffer.compare(asBytes(data), asBytes(largeFloats(100))), 0);
  });

  test("a large msgpack artifact comes back exactly", async () => {
    assert.deepStrictEqual(await run.artifact("rows"), largeRows());
  });

  test("each is one file named by the SHA-256 of its bytes, written once; no temporary file is left", async () => {
    const start = await task(run, "start");
    const data = refOf(start, "data")!;
    assert.equal(data.chunks, undefined, "one blob, not chunks");
    assert.equal(refOf(await task(run, "check"), "data")?.hash, data.hash, "read unchanged, it keeps its ref");
    const file = blobFile(store, data.hash);
    assert.equal(statSync(file).size, 100 * MB);
    assert.equal(createHash("sha256").update(readFileSync(file)).digest("hex"), data.hash);
    const rows = refOf(start, "rows")!;
    assert.ok(rows.size > 4 * MB, `rows is ${rows.size} bytes`);
    assert.deepEqual(blobDirectory(store), [join(data.hash.slice(0, 2), data.hash), join(rows.hash.slice(0, 2), rows.hash)].sort());
  });

  test("flowrun datastore verify finds no problem", async () => {
    const verified = await runCli(["datastore", "verify", "--datastore-root", store.root]);
    assert.equal(verified.code, 0, describeResult(verified));
    assert.match(verified.stdout, /no problems found/);
  });

  test("flowrun datastore backup copies the blob files: the copy verifies and reads", async () => {
    const backup = join(store.root, "..", "backup");
    const made = await runCli(["datastore", "backup", backup], { env: store.env });
    assert.equal(made.code, 0, describeResult(made));
    assert.deepEqual(blobDirectory({ ...store, root: backup }), blobDirectory(store).filter((f) => !f.startsWith("tmp")));
    const verified = await runCli(["datastore", "verify", "--datastore-root", backup]);
    assert.equal(verified.code, 0, describeResult(verified));
    const copy = await readRun(run.pathspec, { ...store, root: backup, datastore: { kind: "local", root: backup } });
    assert.deepStrictEqual(await copy.artifact("rows"), largeRows());
  });
});

describe("a damaged blob file", { concurrency: 2 }, () => {
  const damages: Array<{ name: string; damage: (file: string) => void; read: RegExp; verify: RegExp }> = [
    {
      name: "cut short",
      damage: (file) => truncateSync(file, 3 * MB),
      read: /is damaged: .* has 3145728 bytes where 8388608 were written/,
      verify: /has 3145728 bytes where 8388608 were written/,
    },
    {
      name: "one byte changed",
      damage: (file) => {
        const bytes = readFileSync(file);
        bytes[5 * MB + 3]! ^= 0x10;
        writeFileSync(file, bytes);
      },
      read: /is damaged: .* changed after it was written/,
      verify: /do not match its hash/,
    },
    {
      name: "deleted",
      damage: (file) => rmSync(file),
      read: /\(blob [0-9a-f]{12}\) is missing from the datastore/,
      verify: /is missing/,
    },
  ];

  for (const { name, damage, read, verify } of damages) {
    describe(name, () => {
      const store = tempDatastore();
      after(() => store.remove());
      let runId = "";
      let file = "";
      before(async () => {
        const result = await runFlowCli(FLOW, ["--mb", "8", "--quiet"], store);
        assert.equal(result.code, 0, describeResult(result));
        runId = result.runId;
        const start = await task(await readRun(`LargeArtifactFlow/${runId}`, store), "start");
        file = blobFile(store, refOf(start, "data")!.hash);
        damage(file);
      });

      test("the client's read throws a DatastoreError naming the artifact and the file", async () => {
        const start = await task(await readRun(`LargeArtifactFlow/${runId}`, store), "start");
        const error = await start.artifact("data").then(() => assert.fail("the damaged artifact was read"), (e: unknown) => e);
        assert.ok(error instanceof Error, String(error));
        assert.ok(error instanceof DatastoreError, `${error.name}: ${error.message}`);
        assert.match(error.message, /LargeArtifactFlow\/\d+\S*\/start\/\d+ artifact 'data'/);
        assert.match(error.message, read);
        if (name !== "deleted") assert.ok(error.message.includes(file), `${error.message} names ${file}`);
        assert.doesNotMatch(error.message, /\n/, "one line");
        assert.deepStrictEqual(await start.artifact("rows"), largeRows(), "the other artifact still reads");
      });

      test("flowrun dump exits 2 with that line", async () => {
        const dumped = await runCli(["dump", `LargeArtifactFlow/${runId}/start`, "--artifact", "data", "--datastore-root", store.root]);
        assert.equal(dumped.code, 2, describeResult(dumped));
        assert.match(dumped.stderr, new RegExp(`artifact 'data'.*${read.source}`));
        assert.doesNotMatch(dumped.stderr, /^\s+at /m, "no stack trace");
      });

      test("a step that reads it fails, naming the artifact", async () => {
        const resumed = await runCli(["resume", FLOW, "check", "--origin-run-id", runId, "--quiet"], { env: store.env });
        assert.equal(resumed.code, 1, describeResult(resumed));
        assert.match(resumed.stderr, new RegExp(`/check/\\d+: \\w+Error: .*artifact 'data'.*${read.source}`));
      });

      test("flowrun datastore verify names the blob file, exit 2", async () => {
        const verified = await runCli(["datastore", "verify", "--datastore-root", store.root]);
        assert.equal(verified.code, 2, describeResult(verified));
        assert.match(verified.stdout, verify);
        assert.ok(verified.stdout.includes(file.split("/").at(-1)!), verified.stdout);
      });
    });
  }
});

describe("a run killed while it writes a blob", () => {
  const store = tempDatastore();
  after(() => store.remove());
  const tmp = join(store.root, "blobs", "tmp");
  const temps = () => (existsSync(tmp) ? readdirSync(tmp) : []);
  let runId = "";

  before(async () => {
    const idFile = join(store.root, "..", "run-id");
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "run", FLOW, "--mb", "100", "--quiet", "--run-id-file", idFile], {
      cwd: REPO,
      env: { ...process.env, ...store.env },
      stdio: "ignore",
    });
    // SIGKILL as soon as a blob's temporary file exists: mid-write (or mid-fsync).
    const poll = setInterval(() => {
      if (temps().length > 0) child.kill("SIGKILL");
    }, 2);
    const signal = await new Promise((resolve) => child.on("close", (_code, signal) => resolve(signal)));
    clearInterval(poll);
    assert.equal(signal, "SIGKILL", "killed while writing (the run did not finish first)");
    runId = readFileSync(idFile, "utf8").trim();
  });

  test("no file has the name of a blob left half written, and verify finds no problem", async () => {
    assert.ok(temps().length > 0, "a temporary file was left");
    for (const temp of temps()) assert.equal(existsSync(blobFile(store, temp.split(".")[0]!)), false, `nothing under the final name of ${temp}`);
    const verified = await runCli(["datastore", "verify", "--datastore-root", store.root]);
    assert.equal(verified.code, 0, describeResult(verified));
  });

  test("resume finishes the run with the right bytes, and removes the dead writer's old temporary files", async () => {
    const hourAgo = Date.now() / 1000 - 3600;
    for (const temp of temps()) utimesSync(join(tmp, temp), hourAgo, hourAgo);
    const resumed = await runCli(["resume", FLOW, "--origin-run-id", runId, "--quiet"], { env: store.env });
    assert.equal(resumed.code, 0, describeResult(resumed));
    const latest = (await inNamespace(null, () => new Flow("LargeArtifactFlow", { datastore: store.datastore }).runs()))[0]!;
    assert.equal(latest.originRunId, runId);
    assert.equal(await latest.artifact("mismatches"), 0);
    assert.deepEqual(temps(), [], "the stale temporary files are gone");
  });
});

describe("a datastore written before blob files (every blob inside data.mdb)", () => {
  test("still reads: a 10 MB blob, and a 70 MB artifact in 64 MiB chunks; verify finds no problem", async (t) => {
    const store = tempDatastore();
    const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
    const whole = asBytes(largeFloats(10));
    const chunked = asBytes(largeFloats(70));
    const chunks = [chunked.subarray(0, CHUNK_BYTES), chunked.subarray(CHUNK_BYTES)];
    // As the LMDB backend wrote them before: raw bytes in the `blobs` database.
    mkdirSync(store.root, { recursive: true });
    const root = openLmdb({ path: store.root, compression: false, noSubdir: false, noSync: true });
    const blobs = root.openDB({ name: "blobs", encoding: "binary" });
    for (const bytes of [whole, ...chunks]) await blobs.put(sha256(bytes), bytes);
    await root.close();

    const backend = new LmdbBackend(store.root);
    t.after(async () => {
      await backend.close();
      store.remove();
    });
    const content = new ContentStore(backend);
    const wholeRef = { hash: sha256(whole), encoding: "raw:Float64Array", size: whole.length };
    const chunkedRef = { hash: "any", encoding: "raw:Float64Array", size: chunked.length, chunks: chunks.map(sha256) };
    assert.equal(Buffer.compare(asBytes(content.loadSync(wholeRef, "whole") as Float64Array), whole), 0);
    assert.equal(Buffer.compare(asBytes((await content.load(chunkedRef, "chunked")) as Float64Array), chunked), 0);
    assert.equal(existsSync(join(store.root, "blobs")), false, "reading writes no blob file");
    const verified = await runCli(["datastore", "verify", "--datastore-root", store.root]);
    assert.equal(verified.code, 0, describeResult(verified));
  });
});
