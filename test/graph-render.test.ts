/** `flowrun show` text and `output-dot` DOT, from the parsed graphs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeGraph } from "../src/core/graph/describe-graph.js";
import { graphToDot } from "../src/core/graph/graph-dot.js";
import { loadFlowGraph } from "../src/core/graph/parse-flow.js";

const graph = (name: string) => loadFlowGraph(`test/fixtures/graphs/${name}.ts`);

test("show: each transition kind reads the way it is written", () => {
  const text = describeGraph(graph("branch-in-foreach")) + describeGraph(graph("switch-loop")) + describeGraph(graph("split-join"));
  assert.match(text, /→ prepare \(foreach over shards, joined in gather\)/);
  assert.match(text, /→ countWords, countChars \(split, joined in combine\)/);
  assert.match(text, /combine {2}\(join of the split in prepare\)/);
  assert.match(text, /→ waiting: poll \| ready: check \(switch on state\)/);
  assert.match(text, /→ small: fast \| large: slow \(switch on size\)/);
  assert.match(text, /→ trainLinear, trainTree \(split, joined in choose\)/);
});

test("show: flow docstring, parameters with type, default, help and required, step decorators", () => {
  const text = describeGraph(graph("linear"));
  assert.match(text, /^Flow OrderCleanupFlow {2}\(test\/fixtures\/graphs\/linear\.ts\)\n {2}Cleans a CSV of orders/);
  assert.match(text, /@project\(\{ name: "orders" \}\)/);
  assert.match(text, /--alpha +Number +default: 0\.5 +Smoothing factor/);
  assert.match(text, /--limit +Number +required +Rows to read/);
  assert.match(text, /--orders +file +default: "\.\/orders\.csv" +Orders CSV/);
  assert.match(text, /clean\n {6}Drop empty rows\.\n {6}@retry\(\{ times: 2 \}\)\n {6}→ end/);
  assert.doesNotMatch(text, /@step/, "every step has @step; it says nothing");
});

test("dot: joins drawn distinctly, foreach edges name the artifact, switch edges their case", () => {
  const dot = graphToDot(graph("branch-in-foreach")) + graphToDot(graph("switch-loop"));
  assert.match(dot, /^digraph "ShardStatsFlow" \{/);
  assert.match(dot, /"combine" \[label="combine\\njoin", peripheries=2/);
  assert.match(dot, /"start" -> "prepare" \[label="foreach shards", style=bold\];/);
  assert.match(dot, /"review" -> "check" \[label="again", style=dashed\];/);
  assert.match(dot, /"poll" -> "poll" \[label="waiting", style=dashed\];/);
});
