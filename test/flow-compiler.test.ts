/**
 * Flows are compiled once (runtime/compile/flow-compiler.ts) and workers import the result:
 * the compile is cached by content, an edited helper module recompiles, a package installed
 * since recompiles, and the compiled module behaves as its source would under a loader:
 * `import.meta` names the source, a user tsconfig with legacy decorators changes nothing,
 * a CommonJS project still gets ES modules, and stack traces name the .ts lines.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { compileFlow, compiledFlowsDir } from "../runtime/compile/flow-compiler.js";
import { describeResult, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const work = mkdtempSync(join(tmpdir(), "flowrun-compile-"));
after(() => rmSync(work, { recursive: true, force: true }));
let projects = 0;

/** A project directory with the given files (and a node_modules, so its compile cache is inside it). */
function project(files: Record<string, string>): string {
  const dir = join(work, `p${++projects}`);
  for (const [name, text] of Object.entries({ "node_modules/.keep": "", ...files })) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const outputDirs = (flowFile: string) => readdirSync(compiledFlowsDir(flowFile)).filter((name) => name !== "manifests").sort();

describe("the compile cache", () => {
  test("an unchanged flow is compiled once; editing a helper module recompiles, and the new code runs", async () => {
    const dir = project({
      "flow.ts": `import { greeting } from "./lib/helper.js";\nexport const value = greeting();\n`,
      "lib/helper.ts": `export const greeting = (): string => "one";\n`,
    });
    const flowFile = join(dir, "flow.ts");
    const first = await compileFlow(flowFile);
    assert.equal(compiledFlowsDir(flowFile), join(dir, "node_modules/.cache/flowrun/compiled"));
    assert.equal((await import(first.url)).value, "one");
    const again = await compileFlow(flowFile);
    assert.equal(again.url, first.url);
    assert.equal(outputDirs(flowFile).length, 1, "a cache hit writes nothing");

    writeFileSync(join(dir, "lib/helper.ts"), `export const greeting = (): string => "two";\n`);
    const edited = await compileFlow(flowFile);
    assert.notEqual(edited.url, first.url);
    assert.equal((await import(edited.url)).value, "two");
  });

  test("a package installed after the compile is imported by the next run", async () => {
    const dir = project({ "flow.ts": `export async function load() { return (await import("late-pkg")).default; }\n` });
    const flowFile = join(dir, "flow.ts");
    const before = await compileFlow(flowFile);
    await assert.rejects((await import(before.url)).load(), { code: "ERR_MODULE_NOT_FOUND" });

    mkdirSync(join(dir, "node_modules/late-pkg"));
    writeFileSync(join(dir, "node_modules/late-pkg/package.json"), JSON.stringify({ name: "late-pkg", version: "1.0.0", main: "index.js" }));
    writeFileSync(join(dir, "node_modules/late-pkg/index.js"), "module.exports = 'installed';\n");
    const after = await compileFlow(flowFile);
    assert.notEqual(after.url, before.url);
    assert.equal(await (await import(after.url)).load(), "installed");
  });

  test("a syntax error names the file, line and column, and what esbuild says", async () => {
    const dir = project({ "flow.ts": `import "./broken.js";\n`, "broken.ts": `export const x = ;\n` });
    await assert.rejects(compileFlow(join(dir, "flow.ts")), (error: Error) => {
      assert.match(error.message, new RegExp(`^cannot load the flow: ${join(dir, "broken.ts")}:1:\\d+: ERROR: Unexpected ";"`));
      return true;
    });
  });
});

describe("a compiled module behaves as its source", () => {
  test("import.meta.url, filename, dirname and resolve name the source file, in every module", async () => {
    const dir = project({
      "flow.ts": `export { meta as helperMeta } from "./sub/helper.js";\nexport const meta = [import.meta.url, import.meta.filename, import.meta.dirname, import.meta.resolve("./data.json")];\n`,
      "sub/helper.ts": `export const meta = [import.meta.url, import.meta.dirname];\n`,
    });
    const compiled = await import((await compileFlow(join(dir, "flow.ts"))).url);
    assert.deepEqual(compiled.meta, [pathToFileURL(join(dir, "flow.ts")).href, join(dir, "flow.ts"), dir, pathToFileURL(join(dir, "data.json")).href]);
    assert.deepEqual(compiled.helperMeta, [pathToFileURL(join(dir, "sub/helper.ts")).href, join(dir, "sub")]);
  });

  test("a JSON import with attributes and a plain .js module load from where they are", async () => {
    const dir = project({
      "flow.ts": `import data from "./data.json" with { type: "json" };\nimport { plain } from "./plain.js";\nexport const both = [data.n, plain];\n`,
      "data.json": `{ "n": 7 }`,
      "plain.js": `export const plain = import.meta.url;\n`,
    });
    const compiled = await import((await compileFlow(join(dir, "flow.ts"))).url);
    assert.deepEqual(compiled.both, [7, pathToFileURL(join(dir, "plain.js")).href]);
  });
});

describe("what `flowrun` resolves to", () => {
  const importedRuntime = async (source: string) => {
    const dir = project({ "flow.ts": source });
    const { url } = await compileFlow(join(dir, "flow.ts"));
    return [...readFileSync(new URL(url), "utf8").matchAll(/from "file:\/\/[^"]*\/src\/([\w-]+)\.[tj]s"/g)].map((m) => m[1]);
  };

  test("a module that imports only the flow API gets the flow API alone (no client modules loaded in the worker)", async () => {
    assert.deepEqual(await importedRuntime(`import { FlowSpec, step, current, ParameterError } from "flowrun";\nexport { FlowSpec, step, current, ParameterError };\n`), ["flow-api"]);
  });

  test("a module that uses the client, or imports flowrun as a namespace, gets the whole package", async () => {
    assert.deepEqual(await importedRuntime(`import { FlowSpec, Run } from "flowrun";\nexport { FlowSpec, Run };\n`), ["index"]);
    assert.deepEqual(await importedRuntime(`import * as flowrun from "flowrun";\nexport const api = flowrun;\n`), ["index"]);
  });
});

describe("flows run compiled", () => {
  const store = tempDatastore();
  after(() => store.remove());
  const flow = (body: string) => `import { FlowSpec, step } from "flowrun";
export default class CompiledFlow extends FlowSpec {
  @step start() { ${body} this.next(this.end); }
  @step end() {}
}
`;

  test("in a CommonJS project whose tsconfig asks for legacy decorators, the flow still runs with standard ones", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "cjs-project", type: "commonjs" }),
      "tsconfig.json": JSON.stringify({ compilerOptions: { experimentalDecorators: true, module: "commonjs" } }),
      "flows/CompiledFlow.ts": flow(`this.kind = typeof require === "undefined" ? "esm" : "cjs";`),
    });
    const result = await runFlowCli(join(dir, "flows/CompiledFlow.ts"), [], store, { cwd: dir });
    assert.equal(result.code, 0, describeResult(result));
  });

  test("an error in a step names the .ts line that threw", async () => {
    const dir = project({ "flows/CompiledFlow.ts": flow(`\n    throw new Error("boom"); // the throw\n`) });
    const file = join(dir, "flows/CompiledFlow.ts");
    const result = await runFlowCli(file, [], store, { cwd: dir });
    assert.equal(result.code, 1, describeResult(result));
    assert.match(result.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:4:\\d+`), describeResult(result));
    assert.doesNotMatch(result.stderr, /flowrun\/compiled/, "no compiled path shown");
  });
});
