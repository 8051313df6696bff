/**
 * `make demo` in a checkout, then a script in the checkout reading the demo's results with
 * `import { Flow } from "flowrun"`, as the README's client snippets are written. The package
 * resolves its own name to dist/, so `make demo` must have built it. Runs in a copy of the
 * checkout that has no dist/ yet (and so cannot disturb other tests using this one's).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv, copyCheckout, type CheckoutCopy } from "./support/built-checkout.js";

let checkout: CheckoutCopy;
before(() => {
  checkout = copyCheckout();
});
after(() => checkout?.remove());

const run = (cmd: string, args: string[]) => {
  const result = spawnSync(cmd, args, { cwd: checkout.dir, env: cleanEnv(), encoding: "utf8" });
  return { code: result.status, out: `${result.stdout}\n${result.stderr}` };
};

test("after make demo, a script in the checkout imports flowrun and reads the demo's run", { timeout: 600_000 }, () => {
  // The suite runs with dependencies installed: make must not reinstall them (-o node_modules).
  const demo = run("make", ["-o", "node_modules", "demo"]);
  assert.equal(demo.code, 0, demo.out);
  assert.match(demo.out, /✓ Run ArxivAbstractTopicModel\/\S+ succeeded/);
  writeFileSync(
    join(checkout.dir, "read-demo.mjs"),
    `import { Flow } from "flowrun";
const run = await new Flow("ArxivAbstractTopicModel").latestSuccessfulRun();
const topics = await run.artifact("topics");
console.log(\`\${run.pathspec} found \${topics.length} topics\`);
`,
  );
  const read = run("node", ["read-demo.mjs"]);
  assert.equal(read.code, 0, read.out);
  assert.match(read.out, /^ArxivAbstractTopicModel\/\S+ found [1-9]\d* topics$/m);
  // Built once: a second `make demo` with no source changed does not build again.
  assert.equal(run("make", ["-q", "-o", "node_modules", "dist/src/index.js"]).code, 0, "dist/ is up to date after make demo");
});
