// resume FILE takes its origin from runs made from FILE: two files declaring the same flow
// class never resume each other's runs unless the user says the file moved (--force).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { MetadataStore } from "../runtime/metadata/metadata-store.js";
import { openBackend } from "../runtime/datastore/open-backend.js";
import { describeResult, readRun, runCli, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const project = mkdtempSync(join(tmpdir(), "flowrun-collide-"));
const store = tempDatastore();
after(() => {
  rmSync(project, { recursive: true, force: true });
  store.remove();
});
writeFileSync(join(project, "package.json"), "{}\n");

/** A CollideFlow in `dir` whose end step fails until FIXED is set, and says which file it is. */
function collideFlow(dir: string): string {
  mkdirSync(join(project, dir));
  const file = join(project, dir, "CollideFlow.ts");
  writeFileSync(file, `import { FlowSpec, step } from "flowrun";
export default class CollideFlow extends FlowSpec {
  declare from: string;
  @step start() { this.from = ${JSON.stringify(dir)}; this.next(this.end); }
  @step end() { if (!process.env.FIXED) throw new Error("not fixed"); }
}
`);
  return file;
}
const A = collideFlow("a");
const B = collideFlow("b");
const resume = (file: string, ...args: string[]) => runCli(["resume", file, ...args], { cwd: project, env: { ...store.env, FIXED: "1" } });
const resumedId = (stdout: string) => stdout.match(/Run CollideFlow\/(\S+) succeeded/)![1]!;

const runs: Record<string, string> = {};
test("a run records its flow file relative to the project root", async () => {
  for (const [name, file] of [["a", A], ["b", B]] as const) {
    const result = await runFlowCli(file, [], store, { cwd: project });
    assert.equal(result.code, 1, describeResult(result));
    runs[name] = result.runId;
  }
  assert.equal((await readRun(`CollideFlow/${runs.a}`, store)).metadata.flowFile, "a/CollideFlow.ts");
});

test("resume FILE resumes the latest run made from FILE, not a later one of the same class", async () => {
  const result = await resume(A);
  assert.equal(result.code, 0, describeResult(result));
  const resumed = await readRun(`CollideFlow/${resumedId(result.stdout)}`, store);
  assert.equal(resumed.originRunId, runs.a);
  assert.equal(await resumed.artifact("from"), "a");
});

test("--origin-run-id of a run made from another file is refused naming both files; --force goes on", async () => {
  const refused = await resume(A, "--origin-run-id", runs.b!);
  assert.equal(refused.code, 2, describeResult(refused));
  assert.match(refused.stderr, /was made from b\/CollideFlow\.ts, not a\/CollideFlow\.ts/);
  assert.match(refused.stderr, /hint: .*--force/);

  const forced = await resume(A, "--origin-run-id", runs.b!, "--force");
  assert.equal(forced.code, 0, describeResult(forced));
  assert.equal((await readRun(`CollideFlow/${resumedId(forced.stdout)}`, store)).originRunId, runs.b);
});

test("a run recorded with an absolute flow file (older flowrun) resumes from that file", async () => {
  const backend = await openBackend(store.datastore);
  const metadata = new MetadataStore(backend);
  const record = (await metadata.getRun("CollideFlow", runs.b!))!;
  await metadata.putRun({ ...record, runId: `${record.runId}-old`, flowFile: B });
  await backend.close();

  const result = await resume(B);
  assert.equal(result.code, 0, describeResult(result));
  assert.equal((await readRun(`CollideFlow/${resumedId(result.stdout)}`, store)).originRunId, `${runs.b}-old`);
});
