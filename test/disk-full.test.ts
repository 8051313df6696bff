/**
 * A write the datastore refuses: a 50 MB artifact on a 20 MB filesystem (local), or on an
 * S3 server that runs out of storage. The run fails with exit 1 and one line naming the
 * datastore, what was being written and its size; no crash, no stack trace; the run is
 * marked failed; what committed is kept, so once there is room `resume` finishes the run.
 *
 * The local case needs a real small filesystem: a tmpfs, which only root can mount.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { describeResult, REPO, runCli } from "./support/flowrun-cli.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { isolateFromAws, localStore, s3Store, useS3Server, type TestStore } from "./fixtures/s3/test-stores.js";

const FLOW = join(REPO, "test/fixtures/faults/DiskFullFlow.ts");
const MB = 2 ** 20;

const scratch = isolateFromAws();
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Mounts a 20 MB tmpfs; answers why not when it cannot (not root, no mount permission). */
function mountSmallFilesystem(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return "mounting a 20 MB tmpfs needs root";
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=20m", "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs: ${(error as Error).message.split("\n")[0]}`;
  }
}

/** The behaviour every backend must show, given a store on which 50 MB does not fit. */
function refusesTheBigArtifact(store: () => TestStore, datastore: RegExp) {
  let runId = "";

  test("the run fails with exit 1 and one line naming the datastore, the artifact and its size", async (t) => {
    const result = await store().run(FLOW);
    runId = result.runId;
    t.diagnostic(result.stderr);
    assert.equal(result.code, 1, describeResult(result));
    const line = new RegExp(`^  DiskFullFlow/${runId}/big/2: DatastoreWriteError: cannot write artifact 'data' \\(50\\.0 MB\\): ${datastore.source}`, "m");
    assert.match(result.stderr, line, describeResult(result));
    assert.doesNotMatch(result.stdout + result.stderr, /Emitted 'error'|unexpected error|^\s+at .*(node_modules|node:internal)/m);
    assert.match(result.stderr, new RegExp(`resume .*DiskFullFlow.ts --origin-run-id ${runId}`));
  });

  test("the run is marked failed; the task before it is kept", async () => {
    const run = await store().read(`DiskFullFlow/${runId}`);
    assert.equal(run.status, "failed");
    assert.equal((await (await run.step("start")).task()).successful, true);
  });

  test("once there is room, resume reuses what committed and finishes", async () => {
    const result = await runCli(["resume", FLOW, "--origin-run-id", runId], { env: { ...store().env, DISK_FULL_MB: "1" } });
    assert.equal(result.code, 0, describeResult(result));
    assert.match(result.stdout, /Cloned from DiskFullFlow\/.*\/start\/1/);
  });
}

describe("local datastore on a 20 MB filesystem", () => {
  const mountPoint = mkdtempSync(join(tmpdir(), "flowrun-small-disk-"));
  const cannotMount = mountSmallFilesystem(mountPoint);
  after(() => {
    if (!cannotMount) execFileSync("umount", ["--lazy", mountPoint]) // the client in this process still holds the datastore open;
    rmSync(mountPoint, { recursive: true, force: true });
  });
  const root = join(mountPoint, "datastore");
  const store = localStore(root);
  describe("", { skip: cannotMount }, () => {
    before(() => mkdirSync(root));
    refusesTheBigArtifact(() => store, new RegExp(`local datastore ${root}: no space left on the device`));
  });
});

describe("S3 server that runs out of storage after 20 MB", () => {
  let server: S3TestServer;
  let s3: TestStore;
  before(async () => {
    server = await startS3Server({ storageLimitBytes: 20 * MB });
    useS3Server(server);
    s3 = s3Store(server, "disk-full");
  });
  after(() => server?.stop());
  refusesTheBigArtifact(() => s3, /s3:\/\/flowrun-test\/disk-full\/blobs\/.*XMinioStorageFull \(HTTP 507\)/);
});
