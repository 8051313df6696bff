/**
 * Nothing a step stores is silently altered (SPEC section 3): strings with lone surrogates,
 * `__proto__` keys in every kind of container, getters (stored as the value they return when
 * the step ends) and values nested as deep as an artifact may be all come back exactly, through
 * the client and through `flowrun dump`. What cannot be stored fails the step by path:
 * test/artifacts-plain-data.test.ts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Run } from "../src/index.js";
import { exactValues, MAX_DEPTH, mixedKinds, onlyMaps, type Level } from "./fixtures/flows/exact-values.js";
import { describeResult, fixtureFlow, readRun, runCli, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

/** How many containers of the expected kinds wrap the leaf, walking down without recursion. */
function unnest(value: unknown, kindAt: (level: number) => Level): { depth: number; leaf: unknown } {
  let depth = 0;
  for (;;) {
    const kind = kindAt(depth);
    const inner =
      kind === "array" && Array.isArray(value) ? value[0]
      : kind === "map" && value instanceof Map ? value.get("next")
      : kind === "set" && value instanceof Set ? [...value][0]
      : kind === "object" && Object.getPrototypeOf(value) === Object.prototype && Object.hasOwn(value as object, "next") ? (value as { next: unknown }).next
      : kind === "proto" && Object.getPrototypeOf(value) === Object.prototype && Object.hasOwn(value as object, "__proto__") ? Object.getOwnPropertyDescriptor(value, "__proto__")!.value
      : undefined;
    if (inner === undefined) return { depth, leaf: value };
    value = inner;
    depth++;
  }
}

describe("artifacts come back exactly", { concurrency: true }, () => {
  let run: Run;
  let startTask: string;
  before(async () => {
    const result = await runFlowCli(fixtureFlow("exact-artifacts.ts"), [], store);
    assert.equal(result.code, 0, describeResult(result));
    run = await readRun(`ExactArtifactFlow/${result.runId}`, store);
    startTask = `${run.pathspec}/start`;
  });

  for (const [name, expected] of Object.entries(exactValues())) {
    test(`${name} round-trips exactly`, async () => {
      assert.deepStrictEqual(await run.artifact(name), expected);
    });
  }

  test("an enumerable getter on `this` is stored as the value it returns when the step ends", async () => {
    assert.deepStrictEqual(await run.artifact("computed"), { calls: true, answer: 42 });
  });

  test("a getter inside an artifact reads back as a data property holding its value", async () => {
    const report = await run.artifact<object>("report");
    assert.deepStrictEqual(report, { count: 21, doubled: 42 });
    assert.equal(Object.getOwnPropertyDescriptor(report, "doubled")?.value, 42);
  });

  for (const [name, kindAt] of [["deepestMixed", mixedKinds], ["deepestMaps", onlyMaps]] as const) {
    test(`${name}, ${MAX_DEPTH} containers deep, reads back through the client and flowrun dump`, async () => {
      assert.deepStrictEqual(unnest(await run.artifact(name), kindAt), { depth: MAX_DEPTH, leaf: "bottom" });
      const printed = await runCli(["dump", startTask, "--artifact", name], { env: store.env });
      assert.equal(printed.code, 0, describeResult(printed));
      assert.match(printed.stdout, new RegExp(`^  ${name} = `, "m"));
    });
  }
});
