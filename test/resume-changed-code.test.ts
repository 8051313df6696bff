// resume after the flow's code changed: parameters the code declares now but the origin run
// lacked take their defaults (a callable default sees `current`), parameters the code no
// longer declares are dropped, and the user is told both in one line each.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { describeResult, readRun, runCli, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const project = mkdtempSync(join(tmpdir(), "flowrun-changed-"));
const store = tempDatastore();
after(() => {
  rmSync(project, { recursive: true, force: true });
  store.remove();
});
writeFileSync(join(project, "package.json"), "{}\n");
mkdirSync(join(project, "flows"));
const FLOW = join(project, "flows/GrowFlow.ts");

const BEFORE = `import { FlowSpec, step, Parameter } from "flowrun";
export default class GrowFlow extends FlowSpec {
  n = Parameter("n", { default: 2 });
  old = Parameter("old", { default: "x" });
  declare product: number;
  @step start() { this.next(this.end); }
  @step end() { throw new Error("not written yet"); }
}
`;

// "r" is new; its callable default tells a resume from a fresh run through `current`.
const AFTER = `import { FlowSpec, step, Parameter, current } from "flowrun";
export default class GrowFlow extends FlowSpec {
  n = Parameter("n", { default: 2 });
  r = Parameter("r", { type: Number, default: () => (current.originRunId ? 3 : 1) });
  declare product: number;
  @step start() { this.next(this.end); }
  @step end() { this.product = this.n * this.r; console.log("END r=", this.r); }
}
`;

test("resume gives a parameter added since the origin run its default and drops a removed one", async () => {
  writeFileSync(FLOW, BEFORE);
  const origin = await runFlowCli(FLOW, ["--n", "5", "--old", "y"], store, { cwd: project });
  assert.equal(origin.code, 1, describeResult(origin));

  writeFileSync(FLOW, AFTER);
  const resumed = await runCli(["resume", FLOW], { cwd: project, env: store.env });
  assert.equal(resumed.code, 0, describeResult(resumed));
  assert.match(resumed.stderr, /^note: parameters new since the origin run take their defaults: --r$/m);
  assert.match(resumed.stderr, /^note: parameters of the origin run that the flow no longer declares are dropped: --old$/m);
  assert.match(resumed.stderr, /^note: flows\/GrowFlow\.ts changed since GrowFlow\/\S+ ran;/m);

  const latest = await readRun(`GrowFlow/${resumed.stdout.match(/Run GrowFlow\/(\S+) succeeded/)![1]}`, store);
  assert.equal(latest.originRunId, origin.runId);
  assert.equal(await latest.artifact("product"), 15);
  assert.deepEqual(latest.parameters, { n: 5, r: 3 });
});
