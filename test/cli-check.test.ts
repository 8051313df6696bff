/**
 * `flowrun check | show | output-dot` as a user runs them: a real process from the repo
 * root, judged by exit code and output. Each invalid fixture exits 2 naming file:line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { expectedIssues, lineOf } from "./support/fixture-markers.js";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function flowrun(...args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const INVALID = "test/fixtures/invalid";
const invalid = readdirSync(INVALID).filter((f) => f.endsWith(".ts"));

test("check: every invalid fixture exits 2 and names file:line", { concurrency: true }, async (t) => {
  await Promise.all(
    invalid.map((name) =>
      t.test(name, async () => {
        const file = `${INVALID}/${name}`;
        const { code, stdout, stderr } = await flowrun("check", file);
        assert.equal(code, 2, stdout + stderr);
        const output = stdout + stderr;
        const marked = expectedIssues(file, "error");
        if (marked.length === 0) {
          // A file that is not a readable flow: one `file:line: message` line and a hint.
          const line = name === "syntax-error.ts" ? lineOf(file, "definition-error") : 1;
          assert.match(stderr, new RegExp(`^${file}:${line}: .+\\n  hint: .+\\n$`));
          return;
        }
        for (const issue of marked) {
          const [issueCode, line] = issue.split("@");
          assert.match(output, new RegExp(`${file}:${line}:\\d+ error \\[${issueCode}\\] `));
        }
        assert.match(stdout, /\n {2}hint: /);
        assert.match(stdout, new RegExp(`✗ ${marked.length} errors?`));
      }),
    ),
  );
});

test("check: a valid flow exits 0, even with warnings", { concurrency: true }, async (t) => {
  await t.test("clean flow", async () => {
    const { code, stdout } = await flowrun("check", "test/fixtures/graphs/branch-in-foreach.ts");
    assert.equal(code, 0);
    assert.equal(stdout, "✓ Flow is valid: 7 steps\n");
  });
  await t.test("flow with warnings", async () => {
    const file = "test/fixtures/graphs/lint-warnings.ts";
    const { code, stdout } = await flowrun("check", file);
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^${file}:5:1 warning \\[top-level-import\\] `, "m"));
    assert.match(stdout, /✓ Flow is valid: 2 steps \(9 warnings\)\n$/);
  });
});

test("check: bad usage exits 2", async () => {
  const none = await flowrun("check");
  assert.equal(none.code, 2);
  assert.match(none.stderr, /missing the flow file\nusage: flowrun check <flow\.ts>/);
  const missing = await flowrun("check", "flows/NoSuchFlow.ts");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^flows\/NoSuchFlow\.ts: no such flow file \[FLOWRUN_ERR_FLOW_INVALID\]\n {2}hint: check the path/);
});

test("show: steps, transitions, parameters and docstrings", async () => {
  const { code, stdout } = await flowrun("show", "test/fixtures/graphs/nested-foreach.ts");
  assert.equal(code, 0);
  assert.match(stdout, /Flow SizeSeedSweepFlow/);
  assert.match(stdout, /Fits a model for every size and seed/);
  assert.match(stdout, /--test-mode +Boolean +default: computed at run start/);
  assert.match(stdout, /start\n {6}Choose the sizes to try\.\n {6}→ perSize \(foreach over sizes, joined in collect\)/);
  assert.match(stdout, /bestSeed {2}\(join of the foreach in perSize\)/);
  for (const step of ["start", "perSize", "fit", "bestSeed", "collect", "end"]) assert.match(stdout, new RegExp(`^ {2}${step}\\b`, "m"));
});

test("show and output-dot refuse an invalid flow with its errors on stderr", async () => {
  for (const command of ["show", "output-dot"]) {
    const { code, stdout, stderr } = await flowrun(command, `${INVALID}/no-join.ts`);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, /no-join\.ts:12:5 error \[no-join\]/);
  }
});

const hasDot = spawnSync("dot", ["-V"]).status === 0;

test("output-dot renders with Graphviz", { skip: hasDot ? false : "graphviz `dot` is not installed" }, async () => {
  for (const name of ["linear", "split-join", "nested-foreach", "switch-loop", "branch-in-foreach"]) {
    const { code, stdout } = await flowrun("output-dot", `test/fixtures/graphs/${name}.ts`);
    assert.equal(code, 0);
    const svg = spawnSync("dot", ["-Tsvg"], { input: stdout, encoding: "utf8" });
    assert.equal(svg.status, 0, `${name}: ${svg.stderr}`);
    assert.match(svg.stdout, /<svg/);
  }
});
