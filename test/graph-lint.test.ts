/** The suggested practices (SPEC section 7) are warnings that name the line. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { lintFlow } from "../src/core/graph/lint-flow.js";
import { loadFlowGraph } from "../src/core/graph/parse-flow.js";
import { validateGraph } from "../src/core/graph/validate-graph.js";
import { expectedIssues } from "./support/fixture-markers.js";

function lint(file: string) {
  return lintFlow(loadFlowGraph(file), readFileSync(file, "utf8"));
}

test("a flow that follows every practice has no warnings", () => {
  for (const name of ["linear", "split-join", "nested-foreach", "switch-loop", "branch-in-foreach"]) {
    assert.deepEqual(lint(`test/fixtures/graphs/${name}.ts`), [], name);
  }
});

test("each practice broken gives its warning on the marked line", () => {
  const file = "test/fixtures/graphs/lint-warnings.ts";
  const warnings = lint(file);
  assert.ok(warnings.every((w) => w.severity === "warning"));
  assert.deepEqual(warnings.map((w) => `${w.code}@${w.loc.line}`).sort(), expectedIssues(file, "warning"));
  assert.deepEqual(validateGraph(loadFlowGraph(file)), [], "warnings are not errors");
  const messages = warnings.map((w) => w.message).join("\n");
  assert.match(messages, /top-level import of `simple-statistics`/);
  assert.match(messages, /`const THRESHOLD` at the top level/);
  assert.match(messages, /function `score` at the top level/);
  assert.match(messages, /flow class `Trainer` does not end in `Flow`/);
  assert.match(messages, /step `start` has no docstring/);
  assert.match(messages, /step `start` is 32 lines long/);
});
