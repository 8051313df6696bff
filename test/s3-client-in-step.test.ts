/**
 * The client follows the datastore of the run it is in (SPEC section 6): a step of a run
 * made with `--datastore s3` that calls `new Flow("Other").latestRun()` reads the bucket,
 * not a `.flowrun/` that happens to be in the working directory (here holding a decoy run
 * of the same flow). The "in code" line printed after an S3 run works as printed, from
 * that same directory, with no FLOWRUN_* variables set.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Run } from "../src/index.js";
import { describeResult, inNamespace, REPO, runCli, type CliResult } from "./support/flowrun-cli.js";
import { s3ServerPerFile, s3Store, type TestStore } from "./fixtures/s3/test-stores.js";

const TARGET = join(REPO, "test/fixtures/s3/ClientTargetFlow.ts");
const READER = join(REPO, "test/fixtures/s3/ClientReaderFlow.ts");
const server = s3ServerPerFile();
// The working directory of every command: its .flowrun/ holds the decoy run.
const cwd = mkdtempSync(join(tmpdir(), "flowrun-decoy-"));
let store: TestStore;
let s3Flags: string[];
let reader: CliResult;

const runIdOf = (result: CliResult) => /Run \w+\/(\S+) (?:succeeded|failed)/.exec(result.stdout)?.[1] ?? "";

after(() => rmSync(cwd, { recursive: true, force: true }));

// In a describe: its hooks run once the file-level S3 server is up.
describe("the client inside a step of an S3 run", () => {
  before(async () => {
    delete process.env.FLOWRUN_DATASTORE;
    delete process.env.FLOWRUN_DATASTORE_ROOT;
    store = s3Store(server(), "client-in-step");
    s3Flags = ["--datastore", "s3", "--datastore-root", store.datastore.root];
    const onS3 = await runCli(["run", TARGET, "--marker", "from-s3", ...s3Flags], { cwd });
    assert.equal(onS3.code, 0, describeResult(onS3));
    // Made after the S3 run: the newer of the two, so reading the wrong store cannot go unnoticed.
    const decoy = await runCli(["run", TARGET, "--marker", "decoy"], { cwd });
    assert.equal(decoy.code, 0, describeResult(decoy));
    reader = await runCli(["run", READER, ...s3Flags], { cwd });
  });

  test("a step of an S3 run reads another flow's runs from S3, not the local .flowrun/", async () => {
    assert.equal(reader.code, 0, describeResult(reader));
    const run = await inNamespace(null, () => Run.get(`ClientReaderFlow/${runIdOf(reader)}`, { datastore: store.datastore }));
    assert.equal(await run.artifact("readMarker"), "from-s3");
  });

  test("the printed `Run.get(...)` line reads the run from S3 as printed", () => {
    const line = reader.stdout.split("\n").find((l) => l.includes("Run.get("));
    assert.ok(line, describeResult(reader));
    const code = line.replace(/\s+\/\/ in code$/, "").trim().replace('from "flowrun"', `from ${JSON.stringify(pathToFileURL(join(REPO, "src/index.ts")).href)}`);
    const script = code.replace(/await (\(await Run\.get\(.*\)\)\.data\(\))$/, "console.log(JSON.stringify(await $1))");
    assert.notEqual(script, code, `the line ends with the data() call: ${line}`);
    const result = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), "--input-type=module", "-e", script], { cwd, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { readRun: JSON.parse(result.stdout).readRun, readMarker: "from-s3" });
  });
});
