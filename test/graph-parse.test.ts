/** The static graph read from valid flow files: kinds, edges, splits and joins, parameters. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlowDefinitionError } from "../src/core/errors.js";
import { loadFlowGraph } from "../src/core/graph/parse-flow.js";
import type { FlowGraph } from "../src/core/graph/types.js";
import { validateGraph } from "../src/core/graph/validate-graph.js";
import { lineOf } from "./support/fixture-markers.js";

const fixture = (name: string) => `test/fixtures/graphs/${name}.ts`;

function shape(graph: FlowGraph) {
  return Object.fromEntries(
    [...graph.steps.values()].map((s) => [
      s.name,
      { kind: s.kind, next: s.next, parents: s.parents, splitParents: s.splitParents, join: s.matchingJoin ?? null, isJoin: s.isJoin },
    ]),
  );
}

test("a linear flow: class, docstrings, decorators, async and locations", () => {
  const file = fixture("linear");
  const graph = loadFlowGraph(file);
  assert.equal(graph.className, "OrderCleanupFlow");
  assert.equal(graph.doc, "Cleans a CSV of orders and reports how many are left.");
  assert.deepEqual(graph.decorators.map((d) => [d.name, d.args]), [["project", '{ name: "orders" }']]);
  assert.deepEqual([...graph.steps.keys()], ["start", "clean", "end"]);
  assert.deepEqual(shape(graph).clean, { kind: "linear", next: ["end"], parents: ["start"], splitParents: [], join: null, isJoin: false });
  assert.equal(graph.steps.get("end")!.kind, "end");

  const start = graph.steps.get("start")!;
  assert.equal(start.async, true);
  assert.equal(start.doc, "Parse the orders.");
  assert.deepEqual(start.loc, { file, line: lineOf(file, "async start()"), column: 9 });
  assert.equal(start.nextLoc!.line, lineOf(file, "this.next(this.clean)"));

  const clean = graph.steps.get("clean")!;
  assert.equal(clean.doc, "Drop empty rows.", "a docstring between the decorators and the method is read too");
  assert.deepEqual(clean.decorators.map((d) => [d.name, d.args]), [["retry", "{ times: 2 }"], ["step", ""]]);
  assert.equal(clean.async, false);
  assert.deepEqual(validateGraph(graph), []);
});

test("parameters: names, kinds, help, required and the type a default implies", () => {
  const graph = loadFlowGraph(fixture("linear"));
  const byName = Object.fromEntries(graph.parameters.map((p) => [p.name, p]));
  const types = Object.fromEntries(graph.parameters.map((p) => [p.name, p.typeName]));
  assert.deepEqual(types, {
    "test-mode": "Boolean", // () => !expr
    alpha: "Number",
    region: "String",
    verbose: "Boolean",
    columns: "JSONType",
    limit: "Number", // written
    seed: undefined, // a function whose result is not a literal
    mapping: "JSONType",
    orders: undefined,
  });
  assert.equal(byName["test-mode"]!.field, "testMode");
  assert.equal(byName["test-mode"]!.defaultText, "() => !current.isProduction");
  assert.equal(byName["test-mode"]!.help, "Run on a small subset");
  assert.equal(byName.limit!.required, true);
  assert.equal(byName.limit!.defaultText, undefined);
  assert.equal(byName.alpha!.required, false);
  assert.equal(byName.orders!.kind, "IncludeFile");
  assert.equal(byName.orders!.defaultText, '"./orders.csv"');
  assert.equal(byName.alpha!.loc.line, lineOf(fixture("linear"), "alpha = Parameter"));
});

test("a static split and its join", () => {
  const graph = loadFlowGraph(fixture("split-join"));
  assert.deepEqual(shape(graph), {
    start: { kind: "split", next: ["trainLinear", "trainTree"], parents: [], splitParents: [], join: "choose", isJoin: false },
    trainLinear: { kind: "linear", next: ["choose"], parents: ["start"], splitParents: ["start"], join: null, isJoin: false },
    trainTree: { kind: "linear", next: ["choose"], parents: ["start"], splitParents: ["start"], join: null, isJoin: false },
    // A join's splitParents still end with the split it closes.
    choose: { kind: "linear", next: ["end"], parents: ["trainLinear", "trainTree"], splitParents: ["start"], join: null, isJoin: true },
    end: { kind: "end", next: [], parents: ["choose"], splitParents: [], join: null, isJoin: false },
  });
  assert.deepEqual(validateGraph(graph), []);
});

test("a foreach inside a foreach: each closed by its own join, inner first", () => {
  const graph = loadFlowGraph(fixture("nested-foreach"));
  const s = shape(graph);
  assert.equal(graph.steps.get("start")!.foreach, "sizes");
  assert.equal(graph.steps.get("perSize")!.foreach, "seeds");
  assert.deepEqual(s.start, { kind: "foreach", next: ["perSize"], parents: [], splitParents: [], join: "collect", isJoin: false });
  assert.deepEqual(s.perSize, { kind: "foreach", next: ["fit"], parents: ["start"], splitParents: ["start"], join: "bestSeed", isJoin: false });
  assert.deepEqual(s.fit!.splitParents, ["start", "perSize"]);
  assert.deepEqual(s.bestSeed!.splitParents, ["start", "perSize"]);
  assert.deepEqual(s.collect!.splitParents, ["start"]);
  assert.deepEqual(s.end!.splitParents, []);
  assert.equal(graph.steps.get("fit")!.async, true);
  assert.deepEqual(validateGraph(graph), []);
});

test("switches: cases in order, a case back to the step itself and to an earlier step", () => {
  const graph = loadFlowGraph(fixture("switch-loop"));
  const poll = graph.steps.get("poll")!;
  assert.equal(poll.kind, "switch");
  assert.equal(poll.condition, "state");
  assert.deepEqual(poll.switchCases, { waiting: "poll", ready: "check" });
  assert.deepEqual(poll.next, ["poll", "check"]);
  assert.deepEqual(poll.parents, ["start", "poll"]);
  assert.deepEqual(graph.steps.get("check")!.parents, ["poll", "review"]);
  assert.deepEqual(graph.steps.get("review")!.parents, ["fast", "slow"], "switch branches converge on a normal step");
  for (const step of graph.steps.values()) assert.deepEqual(step.splitParents, [], step.name);
  assert.deepEqual(validateGraph(graph), []);
});

test("a split inside a foreach; the class found through `export default Name`", () => {
  const graph = loadFlowGraph(fixture("branch-in-foreach"));
  assert.equal(graph.className, "ShardStatsFlow");
  const s = shape(graph);
  assert.equal(s.start!.join, "gather");
  assert.equal(s.prepare!.join, "combine");
  assert.deepEqual(s.countWords!.splitParents, ["start", "prepare"]);
  assert.deepEqual(s.combine!.splitParents, ["start", "prepare"]);
  assert.deepEqual(s.gather!.splitParents, ["start"]);
  assert.deepEqual(validateGraph(graph), []);
});

const dir = mkdtempSync(join(tmpdir(), "flowrun-graph-"));
after(() => rmSync(dir, { recursive: true, force: true }));
function flowFile(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}
const BODY = `{
  @step start() { this.next(this.end); }
  @step end() {}
}`;

test("the flow class: default export in any form, else a named export extending FlowSpec", () => {
  const cases: [string, string][] = [
    [`class AFlow extends FlowSpec ${BODY}\nexport { AFlow as default };`, "AFlow"],
    [`export class Helper {}\nexport class BFlow extends FlowSpec ${BODY}`, "BFlow"],
    [`class Base extends FlowSpec {}\nexport default class CFlow extends Base ${BODY}`, "CFlow"],
    [`class DFlow extends FlowSpec ${BODY}\nexport { DFlow };`, "DFlow"],
    [`export default class extends FlowSpec ${BODY}`, "anonymous"],
  ];
  cases.forEach(([source, name], i) => {
    const file = flowFile(name === "anonymous" ? "anonymous.ts" : `case${i}.ts`, source);
    const graph = loadFlowGraph(file);
    assert.equal(graph.className, name, source);
    assert.deepEqual([...graph.steps.keys()], ["start", "end"]);
  });
});

test("a file that cannot be read as a flow is a FlowDefinitionError saying where and what to do", () => {
  const missing = join(dir, "nope.ts");
  assert.throws(() => loadFlowGraph(missing), (e: unknown) => {
    assert.ok(e instanceof FlowDefinitionError);
    assert.match(e.message, /no such flow file/);
    assert.equal(e.where, missing);
    assert.match(e.hint!, /check the path/);
    return true;
  });
  const helperOnly = flowFile("helper.ts", "export class Helper {}\n");
  assert.throws(() => loadFlowGraph(helperOnly), (e: unknown) => {
    assert.ok(e instanceof FlowDefinitionError);
    assert.equal(e.where, `${helperOnly}:1`);
    assert.match(e.hint!, /export default class MyFlow extends FlowSpec/);
    return true;
  });
  const broken = flowFile("broken.ts", `export default class XFlow extends FlowSpec {\n  @step start() {\n    this.next(this.end;\n  }\n}\n`);
  assert.throws(() => loadFlowGraph(broken), (e: unknown) => {
    assert.ok(e instanceof FlowDefinitionError);
    assert.equal(e.where, `${broken}:3`);
    assert.match(e.message, /^syntax error: /);
    return true;
  });
});

test("parameter types from function defaults and written types", () => {
  const file = flowFile(
    "params.ts",
    `export default class PFlow extends FlowSpec {
  a = Parameter("a", { default: () => true });
  b = Parameter("b", { default: () => 3 });
  c = Parameter("c", { default: () => compute(), type: String });
  d = Parameter("d", { default: -1 });
  e = Parameter("e", { default: \`x\` });
  f = Parameter("f");
  ${BODY.slice(1)}`,
  );
  const types = loadFlowGraph(file).parameters.map((p) => [p.name, p.typeName]);
  assert.deepEqual(types, [["a", "Boolean"], ["b", "Number"], ["c", "String"], ["d", "Number"], ["e", "String"], ["f", undefined]]);
});
