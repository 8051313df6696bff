/**
 * A step that imports a package only another step's `@dependencies` provides fails with a
 * hint saying to give it that decorator too: steps never see each other's environments,
 * which a user coming from one shared node_modules does not expect.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeResult, fixtureFlow, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";
import { packFixtures, startRegistry, type FixtureRegistry } from "./fixtures/packages/fixture-registry.js";

const store = tempDatastore();
let work: string;
let registry: FixtureRegistry;
let env: Record<string, string>;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "flowrun-hint-"));
  const packs = await packFixtures(work, ["fr-greeter-1.0.0"]);
  registry = await startRegistry([packs["fr-greeter@1.0.0"]!]);
  env = { ...registry.npmEnv(work), FLOWRUN_ENV_CACHE: join(work, "envs") };
});
after(async () => {
  await registry?.close();
  rmSync(work, { recursive: true, force: true });
  store.remove();
});

test("importing a package another step declares in @dependencies fails with a hint to declare it", async () => {
  const result = await runFlowCli(fixtureFlow("undeclared-dependency.ts"), [], store, { env });
  assert.equal(result.code, 1, describeResult(result));
  assert.match(result.stderr, /UndeclaredDependencyFlow\/\S+\/farewell\/\d+: .*Cannot find package 'fr-greeter'/, describeResult(result));
  assert.match(
    result.stderr,
    /hint: add @dependencies\(\{ packages: \{ "fr-greeter": "\^1\.0\.0" \} \}\) to step farewell \(step greet declares it\)/,
    describeResult(result),
  );
});
