// A run whose orchestrator is gone (kill -9 of the CLI, a machine that went down) shows as
// `crashed`, never `running` forever: in `flowrun runs`, in the client, and as the origin of
// its resume. Same host: the orchestrator's process is gone. Another host: its heartbeat
// record is older than three intervals. On LMDB and on S3.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { openBackend } from "../runtime/datastore/open-backend.js";
import { MetadataStore } from "../runtime/metadata/metadata-store.js";
import type { RunRecord } from "../runtime/metadata/records.js";
import { describeResult, REPO, runCli } from "./support/flowrun-cli.js";
import { startS3Server, type S3TestServer } from "./support/s3-server.js";
import { isolateFromAws, localStore, s3Store, useS3Server, type TestStore } from "./fixtures/s3/test-stores.js";

const SLOW = "test/fixtures/resume/SlowStepFlow.ts";
const TSX = import.meta.resolve("tsx");
const HOUR = 3_600_000;

const scratch = isolateFromAws();
let server: S3TestServer;
before(async () => {
  server = await startS3Server();
  useS3Server(server);
});
after(async () => {
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** `flowrun run SlowStepFlow` with its middle step waiting; resolves with the run ID and a SIGKILL once that step started. */
async function startSlowRun(store: TestStore): Promise<{ runId: string; kill(): Promise<void> }> {
  const marker = join(scratch, `started-${store.name}`);
  const idFile = join(scratch, `run-id-${store.name}`);
  const child = spawn(process.execPath, ["--import", TSX, "src/cli/main.ts", "run", SLOW, "--run-id-file", idFile], {
    cwd: REPO,
    env: { ...process.env, ...store.env, SLOW_MARKER: marker, SLOW_WAIT: "1", FLOWRUN_HEARTBEAT_SECONDS: "1" },
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  while (!existsSync(marker)) {
    assert.equal(child.exitCode, null, "the run ended before its slow step started");
    await sleep(50);
  }
  return {
    runId: readFileSync(idFile, "utf8").trim(),
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

function foreignRun(runId: string, orchestrator?: RunRecord["orchestrator"]): RunRecord {
  return {
    flow: "SlowStepFlow", runId, user: "someone", parameters: {}, rawParameters: {}, tags: [], systemTags: ["user:someone"],
    flowFile: SLOW, codeHash: "", status: "running", createdAt: new Date(Date.now() - HOUR).toISOString(), orchestrator,
  };
}

for (const name of ["local", "s3"]) {
  describe(`on ${name}`, () => {
    let store: TestStore;
    before(() => {
      store = name === "local" ? localStore() : s3Store(server, "crashed");
    });
    after(() => store.remove());

    test("a run whose CLI was killed shows as crashed, and its resume names it as origin", async () => {
      const slow = await startSlowRun(store);
      const pathspec = `SlowStepFlow/${slow.runId}`;
      assert.equal((await store.read(pathspec)).status, "running", "a live run is running");
      await slow.kill();

      const run = await store.read(pathspec);
      assert.equal(run.status, "crashed");
      assert.equal(run.finished, true);
      const listed = await runCli(["runs", "SlowStepFlow", "--all-namespaces"], { env: store.env });
      assert.equal(listed.code, 0, describeResult(listed));
      assert.match(listed.stdout, new RegExp(`^${pathspec}\\s+crashed\\s`, "m"));
      assert.match(listed.stdout, new RegExp(`resume it with \`.*resume ${SLOW} --origin-run-id ${slow.runId}\``));

      const resumed = await runCli(["resume", SLOW, "--origin-run-id", slow.runId], { env: store.env });
      assert.equal(resumed.code, 0, describeResult(resumed));
      assert.match(resumed.stderr, new RegExp(`note: ${pathspec} crashed`));
      const id = resumed.stdout.match(/Run SlowStepFlow\/(\S+) succeeded/)![1]!;
      const latest = await store.read(`SlowStepFlow/${id}`);
      assert.equal(latest.originRunId, slow.runId);
      assert.match(String((await (await latest.step("start")).task()).clonedFrom), new RegExp(`^${pathspec}/start/`));
    });

    test("a run on another host is crashed once its heartbeat is older than three intervals", async () => {
      const backend = await openBackend(store.datastore);
      const metadata = new MetadataStore(backend);
      const elsewhere = { host: "another-host.invalid", pid: 1, heartbeatSeconds: 10 };
      await metadata.putRun(foreignRun("fresh", elsewhere));
      await metadata.putHeartbeat("SlowStepFlow", "fresh", { at: new Date().toISOString() });
      await metadata.putRun(foreignRun("stale", elsewhere));
      await metadata.putHeartbeat("SlowStepFlow", "stale", { at: new Date(Date.now() - 31_000).toISOString() });
      // Recorded before runs had heartbeats: no orchestrator, no heartbeat record.
      await metadata.putRun(foreignRun("before-heartbeats"));
      await backend.close();

      assert.equal((await store.read("SlowStepFlow/fresh")).status, "running");
      assert.equal((await store.read("SlowStepFlow/stale")).status, "crashed");
      assert.equal((await store.read("SlowStepFlow/before-heartbeats")).status, "crashed");
    });
  });
}
