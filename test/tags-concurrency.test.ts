/**
 * Tags under concurrency, on LMDB and on S3: each tag is its own record, so adds and
 * removes from parallel `flowrun tag` processes, the client and the run itself (which
 * rewrites its record when it ends) all take effect. Tags of any characters round-trip;
 * system tags (`user:`, `project:`, `project_branch:`, `runtime:`) are refused.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { TagError } from "../src/index.js";
import { describeResult, fixtureFlow, runCli } from "./support/flowrun-cli.js";
import { localStore, s3ServerPerFile, s3Store, type TestStore } from "./fixtures/s3/test-stores.js";

const FLOW = fixtureFlow("tag-wait.ts");
const s3Server = s3ServerPerFile();
const scratch = mkdtempSync(join(tmpdir(), "flowrun-tags-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

let files = 0;
const scratchFile = (name: string) => join(scratch, `${name}-${++files}`);

async function waitForFile(path: string): Promise<string> {
  while (!existsSync(path)) await sleep(50);
  return readFileSync(path, "utf8");
}

for (const backend of ["local", "s3"] as const) {
  describe(`tags on ${backend}`, () => {
    let store: TestStore;
    let pathspec: string;
    const tag = (...args: string[]) => runCli(["tag", ...args], { env: store.env });
    const userTags = async () => (await store.read(pathspec)).metadata.tags;

    before(async () => {
      store = backend === "local" ? localStore() : s3Store(s3Server(), "tags");
      const release = scratchFile("released");
      writeFileSync(release, "");
      const run = await store.run(FLOW, ["--release", release, "--quiet"]);
      assert.equal(run.code, 0, describeResult(run));
      pathspec = `TagWaitFlow/${run.runId}`;
    });
    after(() => store.remove());

    test("16 parallel flowrun tag add and remove processes all take effect", async () => {
      const added = ["a/b", "50%", "..", "日本語", "x".repeat(40), "with space", "p*!'()", "plain"];
      const removed = Array.from({ length: 8 }, (_, i) => `old-${i}`);
      const setup = await tag("add", pathspec, ...removed);
      assert.equal(setup.code, 0, describeResult(setup));

      const results = await Promise.all([...added.map((t) => tag("add", pathspec, t)), ...removed.map((t) => tag("remove", pathspec, t))]);
      for (const result of results) assert.equal(result.code, 0, describeResult(result));
      assert.deepEqual(await userTags(), [...added].sort());
      await tag("remove", pathspec, ...added);
    });

    test("a tag added while the run runs survives its end; --tag tags are removable like any other", async () => {
      const [started, release] = [scratchFile("started"), scratchFile("release")];
      const running = store.run(FLOW, ["--started", started, "--release", release, "--tag", "initial", "--tag", "dropped", "--quiet"]);
      const during = `TagWaitFlow/${await waitForFile(started)}`;
      for (const args of [["add", during, "added-during-run"], ["remove", during, "dropped"]]) {
        const result = await tag(...args);
        assert.equal(result.code, 0, describeResult(result));
      }
      writeFileSync(release, "");
      const run = await running;
      assert.equal(run.code, 0, describeResult(run));
      const read = await store.read(during);
      assert.equal(read.status, "succeeded");
      assert.deepEqual(read.metadata.tags, ["added-during-run", "initial"]);
    });

    test("the client's addTag, replaceTag and removeTag; Run.tags follows them", async () => {
      const run = await store.read(pathspec);
      await run.addTag("candidate");
      assert.ok(run.tags.includes("candidate"), run.tags.join(","));
      await run.replaceTag("candidate", "champion");
      assert.ok(run.tags.includes("champion") && !run.tags.includes("candidate"), run.tags.join(","));
      assert.deepEqual(await userTags(), ["champion"], "as stored");
      await run.removeTag("champion");
      assert.ok(!run.tags.includes("champion"));
      assert.deepEqual(await userTags(), []);
    });

    test("system tags are refused: exit 2 with one line from the CLI, a TagError from the client, nothing written", async () => {
      const added = await tag("add", pathspec, "fine", "user:mallory");
      assert.equal(added.code, 2, describeResult(added));
      assert.match(added.stderr, /^flowrun: TagWaitFlow\/\S+: user:mallory is a system tag and cannot be added \[FLOWRUN_ERR_TAG\]\n  hint: .*user:, project:, project_branch:, runtime:.*\n$/);
      const removed = await tag("remove", pathspec, "project_branch:x.prod");
      assert.equal(removed.code, 2, describeResult(removed));
      assert.match(removed.stderr, /project_branch:x\.prod is a system tag and cannot be removed/);

      const run = await store.read(pathspec);
      await assert.rejects(run.addTag("runtime:production"), (e) => e instanceof TagError && e.code === "FLOWRUN_ERR_TAG");
      await assert.rejects(run.removeTag(run.tags.find((t) => t.startsWith("user:"))!), TagError);
      await assert.rejects(run.replaceTag("fine", "project:p"), TagError);
      assert.deepEqual(await userTags(), [], "the valid tag of a refused command was not written either");
    });
  });
}
