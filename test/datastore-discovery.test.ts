/**
 * A flow runs the same from any working directory (SPEC section 4): the local datastore is
 * the nearest `.flowrun/` found walking up from the working directory, as git finds `.git`,
 * so a run started in `flows/` lands in the project's store and `flowrun runs` from another
 * subdirectory lists it; no stray store appears where the command ran. A path given to an
 * `IncludeFile` is read relative to the working directory, as in Metaflow.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Run } from "../src/index.js";
import { describeResult, fixtureFlow, inNamespace, runCli, type CliResult } from "./support/flowrun-cli.js";

const project = mkdtempSync(join(tmpdir(), "flowrun-project-"));
const flows = join(project, "flows");
const reports = join(project, "reports", "weekly");
let run: CliResult;
let runId: string;

before(async () => {
  delete process.env.FLOWRUN_DATASTORE;
  delete process.env.FLOWRUN_DATASTORE_ROOT;
  mkdirSync(join(project, ".flowrun"));
  mkdirSync(flows);
  mkdirSync(reports, { recursive: true });
  writeFileSync(join(flows, "notes.txt"), "read from the working directory");
  run = await runCli(["run", fixtureFlow("include-notes.ts"), "--notes", "notes.txt", "--run-id-file", join(project, "run-id")], { cwd: flows });
  runId = existsSync(join(project, "run-id")) ? readFileSync(join(project, "run-id"), "utf8").trim() : "";
});
after(() => rmSync(project, { recursive: true, force: true }));

test("a run started in a subdirectory is stored in the project's .flowrun/, and none is made where it ran", () => {
  assert.equal(run.code, 0, describeResult(run));
  assert.ok(runId, "the run started");
  assert.ok(!existsSync(join(flows, ".flowrun")), "no .flowrun/ in flows/");
  assert.ok(existsSync(join(project, ".flowrun", "data.mdb")), "the project's store holds the run");
  assert.match(run.stdout, new RegExp(`datastore: ${project.replaceAll("/", "\\/")}/\\.flowrun\\b`));
  assert.ok(run.stdout.includes(`Run.get("IncludeNotesFlow/${runId}")`), "a script in the project finds the store: the hint needs no datastore");
});

test("`flowrun runs` from another subdirectory lists it", async () => {
  const runs = await runCli(["runs", "IncludeNotesFlow"], { cwd: reports });
  assert.match(runs.stdout, new RegExp(`^IncludeNotesFlow/${runId}\\s+succeeded`, "m"), describeResult(runs));
  assert.ok(!existsSync(join(project, "reports", ".flowrun")) && !existsSync(join(reports, ".flowrun")), "no .flowrun/ made by reading");
});

test("an IncludeFile path is read relative to the working directory", async () => {
  const stored = await inNamespace(null, () => Run.get(`IncludeNotesFlow/${runId}`, { datastore: { kind: "local", root: join(project, ".flowrun") } }));
  assert.equal(await stored.artifact("copied"), "read from the working directory");
});
