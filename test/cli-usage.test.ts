/**
 * The command line as a Metaflow user reaches for it (SPEC section 4): `--version`, a
 * `--help` of its own for every command, `runs` filtered by tag and status and limited in
 * number, and "did you mean" for a mistyped command, option or flow parameter (exit 2).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Runner, type Run } from "../src/index.js";
import { describeResult, fixtureFlow, REPO, runCli, tempDatastore } from "./support/flowrun-cli.js";

const COMMANDS = ["run", "resume", "check", "show", "output-dot", "runs", "flows", "logs", "dump", "tag", "env", "init"];

describe("--version and --help", () => {
  test("flowrun --version prints the package's version", async () => {
    const result = await runCli(["--version"]);
    assert.equal(result.code, 0, describeResult(result));
    assert.equal(result.stdout, `${JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version}\n`);
  });

  test("every command has its own --help: its usage and options, not the global one", async () => {
    const global = await runCli(["--help"]);
    const helps = await Promise.all(COMMANDS.map((command) => runCli([command, "--help"])));
    helps.forEach((help, i) => {
      assert.equal(help.code, 0, `${COMMANDS[i]}: ${describeResult(help)}`);
      assert.match(help.stdout, new RegExp(`^Usage: flowrun ${COMMANDS[i]}\\b`), `${COMMANDS[i]}: ${help.stdout}`);
      assert.notEqual(help.stdout, global.stdout);
    });
    const runs = helps[COMMANDS.indexOf("runs")]!.stdout;
    for (const option of ["--tag", "--status", "--limit", "--datastore", "--all-namespaces"]) assert.match(runs, new RegExp(`${option}\\b`));
  });
});

describe("runs --tag, --status, --limit", () => {
  const store = tempDatastore();
  const FLOW = fixtureFlow("client-api.ts");
  let nightly: Run;
  let failed: Run;
  let newest: Run;
  before(async () => {
    nightly = await new Runner(FLOW, { datastore: store.datastore, tags: ["nightly", "gpu"] }).run();
    failed = await new Runner(FLOW, { datastore: store.datastore, tags: ["nightly"] }).run({ fail: true });
    newest = await new Runner(FLOW, { datastore: store.datastore }).run();
  });
  after(() => store.remove());
  const listed = (stdout: string) => [...stdout.matchAll(/^ClientApiFlow\/(\S+)/gm)].map((m) => m[1]);
  const runs = (...args: string[]) => runCli(["runs", "ClientApiFlow", ...args], { env: store.env });

  test("--tag keeps the runs having every tag given", async () => {
    assert.deepEqual(listed((await runs("--tag", "nightly")).stdout), [failed.id, nightly.id]);
    assert.deepEqual(listed((await runs("--tag", "nightly", "--tag", "gpu")).stdout), [nightly.id]);
  });

  test("--status keeps the runs in that state; an unknown one is bad usage", async () => {
    assert.deepEqual(listed((await runs("--status", "failed")).stdout), [failed.id]);
    assert.deepEqual(listed((await runs("--status", "succeeded")).stdout), [newest.id, nightly.id]);
    const bad = await runs("--status", "faild");
    assert.equal(bad.code, 2, describeResult(bad));
    assert.match(bad.stderr, /--status "faild".*\n.*did you mean failed\?/);
  });

  test("--limit N shows the N newest and says how many are left out", async () => {
    const limited = await runs("--limit", "1");
    assert.deepEqual(listed(limited.stdout), [newest.id]);
    assert.match(limited.stdout, /1 of 3 runs shown; --limit 3 shows all/);
    assert.doesNotMatch((await runs()).stdout, /runs shown/, "3 runs fit the default limit");
  });
});

describe("did you mean", () => {
  test("a mistyped command", async () => {
    const result = await runCli(["rnus"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command "rnus"[\s\S]*did you mean runs\?/);
  });

  test("a mistyped option of a command", async () => {
    const result = await runCli(["runs", "--limt", "2"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option --limt[\s\S]*did you mean --limit\?/);
  });

  test("a mistyped run option or flow parameter", async () => {
    const [option, parameter] = await Promise.all([
      runCli(["run", fixtureFlow("client-api.ts"), "--max-worker", "2"]),
      runCli(["run", fixtureFlow("client-api.ts"), "--lable", "x"]),
    ]);
    assert.equal(option.code, 2, describeResult(option));
    assert.match(option.stderr, /unknown option --max-worker[\s\S]*did you mean --max-workers\?/);
    assert.equal(parameter.code, 2, describeResult(parameter));
    assert.match(parameter.stderr, /unknown option --lable[\s\S]*did you mean --label\?/);
  });
});
