// flowrun is a real npm package: the `npm pack` tarball installs into an empty project (no
// tsconfig, no tsx of its own), `npx flowrun run` runs a flow there, and a plain .mjs
// script reads the result. Installs the package's dependencies from the npm registry.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

const repo = new URL("..", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "flowrun-pack-"));
after(() => rmSync(work, { recursive: true, force: true }));

const FLOW = `import { FlowSpec, step, Parameter } from "flowrun";

/** A user's own flow. */
export default class UserHelloFlow extends FlowSpec {
  who = Parameter("who", { default: "world" });
  declare greeting: string;

  /** Greet. */
  @step start() { this.greeting = \`hi \${this.who}\`; this.next(this.end); }

  /** Print. */
  @step end() { console.log(this.greeting); }
}
`;

test("the packed tarball installs into an empty project and runs a flow there", { timeout: 600_000 }, () => {
  const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  run("npm", ["pack", "--pack-destination", work], repo);
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
  const project = join(work, "project");
  mkdirSync(project);
  // The registry mirror lacks some newest versions; the repo's .npmrc pins resolution to a date.
  copyFileSync(join(repo, ".npmrc"), join(project, ".npmrc"));
  run("npm", ["init", "-y"], project);
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(work, tarball)], project);
  const installed = join(project, "node_modules", "flowrun");
  assert.ok(existsSync(join(installed, "LICENSE")), "the tarball carries the license");
  // Declarations marked @internal (the client objects' constructors) are not in the published types.
  assert.doesNotMatch(readFileSync(join(installed, "dist/src/client/objects.d.ts"), "utf8"), /constructor\(record/);
  // Source maps carry their sources: src/ is not in the tarball.
  const map = JSON.parse(readFileSync(join(installed, "dist/src/client/objects.js.map"), "utf8")) as { sourcesContent?: string[] };
  assert.match(map.sourcesContent?.[0] ?? "", /export class Run/);
  writeFileSync(join(project, "hello.ts"), FLOW);
  const flowrun = spawnSync("npx", ["flowrun", "run", "hello.ts", "--who", "packed"], { cwd: project, encoding: "utf8" });
  assert.equal(flowrun.status, 0, flowrun.stderr);
  assert.match(flowrun.stdout, /\[UserHelloFlow\/\d+-[0-9a-f]+\/end\/\d+\] hi packed/);
  // The install built lmdb's addon with the ITS#9496 fix (scripts/build-lmdb.mjs), so no warning.
  assert.doesNotMatch(flowrun.stderr, /ITS#9496/);
  writeFileSync(
    join(project, "read.mjs"),
    `import { Flow } from "flowrun";\nconst run = await new Flow("UserHelloFlow").latestSuccessfulRun();\nconsole.log(JSON.stringify(await run.artifact("greeting")));\n`,
  );
  assert.equal(run("node", ["read.mjs"], project).trim(), JSON.stringify("hi packed"));

  // The installed CLI runs compiled flows (no TypeScript loader in its workers): it compiled
  // into the project's node_modules/.cache, and a throw in a helper module names its .ts line.
  assert.ok(existsSync(join(project, "node_modules/.cache/flowrun/compiled/manifests")), "compiled in the project's cache");
  writeFileSync(join(project, "fail-helper.ts"), `export function explode(): never {\n  throw new Error("exploded on purpose");\n}\n`);
  writeFileSync(
    join(project, "failing.ts"),
    `import { FlowSpec, step } from "flowrun";\nimport { explode } from "./fail-helper.js";\nexport default class FailingFlow extends FlowSpec {\n  @step start() { explode(); this.next(this.end); }\n  @step end() {}\n}\n`,
  );
  const failed = spawnSync("npx", ["flowrun", "run", "failing.ts"], { cwd: project, encoding: "utf8" });
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(failed.stdout + failed.stderr, new RegExp(`${join(project, "fail-helper.ts").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2:\\d+`), failed.stdout + failed.stderr);
});
