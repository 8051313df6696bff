/**
 * Artifacts are plain data (SPEC section 3): every plain kind round-trips exactly, fields
 * starting with `_` are not stored, unchanged artifacts pass on by reference (same content
 * hash), a 50 MB typed array works, and anything else fails the step naming its path.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Run, Task } from "../src/index.js";
import { largeArray, plainValues } from "./fixtures/flows/plain-values.js";
import { MAX_DEPTH } from "./fixtures/flows/exact-values.js";
import { lineOf } from "./support/fixture-markers.js";
import { describeResult, fixtureFlow, readRun, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

const task = async (run: Run, step: string): Promise<Task> => (await run.step(step)).task();
const hashOf = (t: Task, name: string): string | undefined => t.metadata.artifacts?.[name]?.hash;

describe("plain data", { concurrency: true }, () => {
  let run: Run;
  let result: Awaited<ReturnType<typeof runFlowCli>>;
  before(async () => {
    result = await runFlowCli(fixtureFlow("plain-data.ts"), [], store);
    assert.equal(result.code, 0, describeResult(result));
    run = await readRun(`PlainDataFlow/${result.runId}`, store);
  });

  for (const [name, expected] of Object.entries(plainValues())) {
    test(`${name} round-trips exactly`, async () => {
      assert.deepStrictEqual(await run.artifact(name), expected);
    });
  }

  test("reading `__proto__` / `constructor` keys pollutes no prototype, here or in the worker", async () => {
    const value = await run.artifact<Record<string, unknown>>("protoKeys");
    assert.deepEqual(Object.keys(value), ["__proto__", "constructor", "ok"]);
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(await run.artifact("prototypePolluted"), false);
  });

  test("-0 round-trips as -0", async () => {
    const value = await run.artifact("negativeZero");
    assert.ok(Object.is(value, -0), `got ${Object.is(value, 0) ? "0" : String(value)}`);
  });

  test("fields starting with _ are not stored", async () => {
    const start = await task(run, "start");
    const names = start.artifactNames();
    assert.ok(names.includes("map") && names.includes("large"), names.join(", "));
    assert.deepEqual(names.filter((n) => n.startsWith("_")), []);
    await assert.rejects(start.artifact("_scratch"), /has no artifact '_scratch'/);
  });

  test("an artifact no later step touches keeps its content hash (passes by reference)", async () => {
    const [start, middle, end] = [await task(run, "start"), await task(run, "middle"), await task(run, "end")];
    const hash = hashOf(start, "untouched");
    assert.ok(hash, "start stored `untouched`");
    assert.equal(hashOf(middle, "untouched"), hash);
    assert.equal(hashOf(end, "untouched"), hash);
    assert.deepEqual(await end.artifact("untouched"), { note: "assigned in start, never touched again", list: [1, 2, 3] });
    // Read but not changed: still the same content, so the same hash.
    assert.equal(hashOf(middle, "map"), hashOf(start, "map"));
    assert.equal(hashOf(middle, "large"), hashOf(start, "large"));
    assert.equal(hashOf(end, "large"), hashOf(start, "large"));
  });

  test("a 50 MB Float64Array round-trips", async () => {
    const count = (50 * 1024 * 1024) / 8;
    const large = await run.artifact<Float64Array>("large");
    assert.ok(large instanceof Float64Array, `a Float64Array, got ${Object.prototype.toString.call(large)}`);
    assert.equal(large.length, count);
    const expected = largeArray(count);
    assert.equal(Buffer.compare(Buffer.from(large.buffer, large.byteOffset, large.byteLength), Buffer.from(expected.buffer)), 0);
    assert.equal(await (await task(run, "middle")).artifact("largeSum"), expected.reduce((a, b) => a + b, 0));
  });
});

describe("values that are not plain data fail the step, naming the path and the line", () => {
  const FLOW = fixtureFlow("bad-artifacts.ts");
  /** The line of the step that assigned the artifact; for one set by defineProperty, the step's. */
  const at = (text: string, how = "assigned in") => ` \\(${how} step assign at ${FLOW.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${lineOf(FLOW, text)}\\)$`;
  const EXPECTED: Record<string, RegExp> = {
    function: new RegExp(`^this\\.model\\.predict is a function; artifacts must be plain data${at("this.model =")}`),
    instance: new RegExp(`^this\\.clock\\.started is an instance of class Ticker; artifacts must be plain data${at("this.clock =")}`),
    symbol: new RegExp(`^this\\.marker\\.kind is a symbol; artifacts must be plain data${at("this.marker =")}`),
    promise: new RegExp(`^this\\.pending is a Promise .*; artifacts must be plain data${at("this.pending =")}`),
    cycle: new RegExp(`^this\\.graph\\.children\\[("0"|0)\\]\\.parent refers back to .*\\(a cycle\\); artifacts must be plain data${at("this.graph = node")}`),
    "throwing getter": new RegExp(`^this\\.secret threw when read to store it \\(Error: no secret here\\)${at("assign() {", "in")}`),
    "throwing nested getter": new RegExp(`^this\\.settings\\.token threw when read to store it \\(TypeError: token expired\\)${at("this.settings =")}`),
    "too deep": new RegExp(`^this\\.tree\\[0\\]\\.next\\.next.*…\\S* is nested ${MAX_DEPTH + 1} levels deep, more than the ${MAX_DEPTH} an artifact may have; artifacts must be plain data${at("this.tree =")}`),
  };
  let run: Run;
  let stderr: string;
  before(async () => {
    const result = await runFlowCli(fixtureFlow("bad-artifacts.ts"), [], store);
    assert.equal(result.code, 1, describeResult(result));
    stderr = result.stderr;
    run = await readRun(`BadArtifactFlow/${result.runId}`, store);
  });

  for (const [kind, message] of Object.entries(EXPECTED)) {
    test(`a ${kind}`, async () => {
      const splits = await (await run.step("assign")).tasks();
      const split = splits.find((t) => t.index === Object.keys(EXPECTED).indexOf(kind));
      assert.ok(split, `a split for ${kind}`);
      assert.equal(split.successful, false);
      assert.equal(split.exception?.name, "ArtifactError");
      assert.match(split.exception!.message, message);
      assert.equal(split.artifactNames().length, 0, "a failed task stores no artifacts");
    });
  }

  test("the run fails and stderr names the step and the path", async () => {
    assert.equal(run.successful, false);
    assert.equal(run.finished, true);
    assert.match(stderr, /BadArtifactFlow\/\d+-\w+\/assign\/\d+: ArtifactError: this\.\w+.* artifacts must be plain data/);
    await assert.rejects(run.step("gather"), /has no tasks/);
  });
});
