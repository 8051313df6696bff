/**
 * Each invalid flow under test/fixtures/invalid gives exactly the errors its
 * `// error: <code>` markers name, on those lines, with a message that names the step.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { FlowDefinitionError } from "../src/core/errors.js";
import { loadFlowGraph } from "../src/core/graph/parse-flow.js";
import type { FlowGraph, StepNode } from "../src/core/graph/types.js";
import { FLOWSPEC_MEMBERS, validateGraph } from "../src/core/graph/validate-graph.js";
import { expectedIssues, lineOf } from "./support/fixture-markers.js";

const INVALID = "test/fixtures/invalid";
const DEFINITION_ERRORS = new Set(["syntax-error.ts", "no-flow-class.ts"]);
const fixtures = readdirSync(INVALID).filter((f) => f.endsWith(".ts") && !DEFINITION_ERRORS.has(f));

/** What each error's message must say, beyond its code and line. */
const MESSAGES: Record<string, RegExp[]> = {
  "unknown-step.ts": [/`this\.next` in step `start` goes to `taly`, which is not a step/],
  "missing-start.ts": [/flow `DownloadSizeFlow` has no `start` step/],
  "missing-end.ts": [/has no `end` step \(steps without `this\.next`: `finish`\)/],
  "missing-next.ts": [/step `normalize` has no `this\.next\(\.\.\.\)` call/],
  "end-has-next.ts": [/step `end` calls `this\.next/, /step `publish` has no `this\.next/],
  "multiple-next.ts": [/step `start` calls `this\.next` on lines 14 and 16/],
  "next-not-last.ts": [/line 12 is not the last statement of step `start`: line 13 comes after it/],
  "no-join.ts": [/the split in step `start` is never joined: its branches `trainLinear` and `trainTree` meet in `end`/],
  "no-join-foreach.ts": [/the foreach in step `start` is never joined: it is still open when `end` ends the flow/],
  "join-mismatch.ts": [/step `combine` takes `inputs`, so it is a join, but it is reached from `prepare` with no split/],
  "join-mismatch-crossed.ts": [
    /join `offlineJoin` gets branch `precision` of the split in `offline` but never `recall`/,
    /join `report` gets inputs from unrelated branches/,
  ],
  "join-mismatch-two-joins.ts": [/the split in `start` end in different joins: `joinLinear` \(from `trainLinear`\) and `joinTree`/],
  "branch-mismatch.ts": [/step `start` is reached as the first step outside any split but from `process` inside the foreach in `start`/],
  "foreach-not-literal.ts": [/the foreach of step `start` is `over`, not a string literal/],
  "condition-not-literal.ts": [/the condition of step `start` is `this\.size`, not a string literal/],
  "unreachable.ts": [/step `debugDump` is never reached from `start`/],
  "reserved-name.ts": [/step `index` has the name of a FlowSpec member/],
  "cycle.ts": [/steps `train` → `evaluate` → `train` form a loop that no switch closes/, /step `end` is never reached/],
  "switch-case-not-step.ts": [/switch case `large` of step `start` goes to `slowPath`, which is not a step/],
  "bad-next.ts": [/step `start`: a foreach goes to exactly one step, not 2/],
  "duplicate-parameter.ts": [/parameter `alpha` is defined twice \(fields `alpha` and `beta`\)/],
  "parameter-name.ts": [/parameter `max-workers` has the name of a run option \(--max-workers\)/, /parameter name `__proto__` must start with a letter/],
  "join-unknown-input.ts": [/join `choose` reads `inputs\.trainTre`, but its inputs come from `trainTree` and `train`/, /join `choose` reads `inputs\.nope`/],
};

for (const name of fixtures) {
  test(`invalid/${name}`, () => {
    const file = `${INVALID}/${name}`;
    const errors = validateGraph(loadFlowGraph(file)).filter((i) => i.severity === "error");
    assert.deepEqual(errors.map((i) => `${i.code}@${i.loc.line}`).sort(), expectedIssues(file, "error"));
    for (const error of errors) {
      assert.equal(error.loc.file, file);
      assert.ok(error.loc.column >= 1);
      assert.ok(error.hint.length > 10 && !error.hint.includes("\n"), `one-line hint: ${error.hint}`);
    }
    const expected = MESSAGES[name];
    assert.ok(expected, `add the expected messages of ${name} to MESSAGES`);
    const messages = errors.map((e) => e.message);
    for (const pattern of expected) assert.ok(messages.some((m) => pattern.test(m)), `${pattern} in ${messages.join(" | ")}`);
  });
}

test("every code the brief names has a fixture", () => {
  const codes = new Set(fixtures.flatMap((f) => expectedIssues(`${INVALID}/${f}`, "error").map((c) => c.split("@")[0])));
  for (const code of [
    "unknown-step", "missing-start", "missing-end", "missing-next", "end-has-next", "multiple-next", "next-not-last",
    "no-join", "join-mismatch", "branch-mismatch", "foreach-not-literal", "condition-not-literal", "unreachable",
    "reserved-name", "cycle", "switch-case-not-step", "bad-next", "duplicate-parameter",
  ]) {
    assert.ok(codes.has(code), code);
  }
});

test("an unknown step's hint suggests the step it was probably meant to be", () => {
  const [error] = validateGraph(loadFlowGraph(`${INVALID}/unknown-step.ts`));
  assert.equal(error!.hint, "did you mean `this.tally`?");
});

test("a syntax error and a file without a flow class are FlowDefinitionErrors at file:line", () => {
  const syntax = `${INVALID}/syntax-error.ts`;
  assert.throws(() => loadFlowGraph(syntax), (e: unknown) => {
    assert.ok(e instanceof FlowDefinitionError);
    assert.equal(e.where, `${syntax}:${lineOf(syntax, "definition-error: syntax error")}`);
    assert.equal(e.exitCode, 2);
    return true;
  });
  const noClass = `${INVALID}/no-flow-class.ts`;
  assert.throws(() => loadFlowGraph(noClass), (e: unknown) => e instanceof FlowDefinitionError && e.where === `${noClass}:1`);
});

test("FLOWSPEC_MEMBERS holds what a step may not be called", () => {
  for (const name of ["next", "input", "index", "inputs", "mergeArtifacts", "constructor", "foreachStack", "name", "toString"]) {
    assert.ok(FLOWSPEC_MEMBERS.includes(name), name);
  }
});

/** Graphs built by hand (no parser syntax facts) are judged by their edges alone. */
function handGraph(steps: Partial<StepNode>[]): FlowGraph {
  const loc = { file: "hand.ts", line: 1, column: 1 };
  const nodes = steps.map(
    (s): StepNode => ({ kind: "linear", next: [], isJoin: false, parents: [], splitParents: [], decorators: [], async: false, loc, name: "?", ...s }),
  );
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return { file: "hand.ts", className: "HandFlow", decorators: [], parameters: [], steps: byName };
}

test("hand-built graphs: a loop that goes back through a switch is fine, one through a linear edge is not", () => {
  const loop = handGraph([
    { name: "start", next: ["work"] },
    { name: "work", next: ["decide"] },
    { name: "decide", kind: "switch", next: ["work", "end"], condition: "status", switchCases: { again: "work", done: "end" } },
    { name: "end", kind: "end" },
  ]);
  assert.deepEqual(validateGraph(loop), []);
  const bad = handGraph([
    { name: "start", kind: "split", next: ["a", "end"] },
    { name: "a", next: ["start"] },
    { name: "end", kind: "end" },
  ]);
  assert.ok(validateGraph(bad).some((i) => i.code === "cycle"));
});

test("a switch inside a branch may converge on the branch's join", () => {
  const graph = handGraph([
    { name: "start", kind: "split", next: ["a", "b"] },
    { name: "a", kind: "switch", next: ["x", "y"], condition: "c", switchCases: { x: "x", y: "y" } },
    { name: "x", next: ["join"] },
    { name: "y", next: ["join"] },
    { name: "b", next: ["join"] },
    { name: "join", isJoin: true, next: ["end"] },
    { name: "end", kind: "end" },
  ]);
  assert.deepEqual(validateGraph(graph), []);
});
