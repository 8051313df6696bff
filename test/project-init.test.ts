/**
 * A new user's first minutes: `flowrun init` makes a project; once its dependencies are in
 * (here flowrun is this checkout, built and linked, as `npm install` would place it), `tsc`
 * type-checks its flows, `flowrun run flows/Hello.ts` runs, and the README's client snippet
 * works in it as written. `flowrun env types` then lets tsc see the types of a step's
 * `@dependencies` package (npm installs it from a registry served by the test).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, copyCheckout, linkProjectDependencies, type CheckoutCopy } from "./support/built-checkout.js";
import { REPO } from "./support/flowrun-cli.js";
import { packFixtures, startRegistry, type FixtureRegistry } from "./fixtures/packages/fixture-registry.js";

let checkout: CheckoutCopy;
let work: string;
let project: string;
let registry: FixtureRegistry;
let extraEnv: Record<string, string>;

before(async () => {
  checkout = copyCheckout();
  execFileSync("npm", ["run", "--silent", "build"], { cwd: checkout.dir, stdio: "ignore" });
  work = mkdtempSync(join(tmpdir(), "flowrun-init-"));
  project = join(work, "my-flows");
  const packs = await packFixtures(work, ["fr-typed-1.0.0"]);
  registry = await startRegistry([packs["fr-typed@1.0.0"]!]);
  extraEnv = { ...registry.npmEnv(work), FLOWRUN_ENV_CACHE: join(work, "envs") };
});
after(async () => {
  await registry?.close();
  checkout?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Asynchronously: the registry npm talks to is served by this process. */
async function run(cmd: string, args: string[], cwd = project, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; out: string }> {
  const child = spawn(cmd, args, { cwd, env: cleanEnv({ ...extraEnv, ...env }), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, out: `exit ${code}\n${stdout}\n${stderr}` };
}
const flowrun = (...args: string[]) => run(join(project, "node_modules/.bin/flowrun"), args);
const tsc = () => run(join(project, "node_modules/.bin/tsc"), ["--noEmit", "-p", "."]);

/** The first ```js block of the README's "Start a project" section, verbatim. */
function readmeClientSnippet(): string {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Start a project"));
  const snippet = /```js\n([^]*?)```/.exec(section)?.[1];
  assert.ok(snippet, "README has a js snippet under ## Start a project");
  return snippet;
}

describe("flowrun init", () => {
  test("makes a ready project: it type-checks, runs Hello, and the README's client snippet reads the run", { timeout: 300_000 }, async () => {
    const init = await run("node", [join(checkout.dir, "dist/src/cli/main.js"), "init", "my-flows"], work);
    assert.equal(init.code, 0, init.out);
    assert.match(init.stdout, /npm install\n/);
    assert.match(init.stdout, /npx flowrun run flows\/Hello\.ts\n/);
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    assert.equal(pkg.type, "module");
    assert.equal(pkg.dependencies.flowrun, `^${JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version}`);
    assert.match(readFileSync(join(project, ".gitignore"), "utf8"), /^\.flowrun\/$/m);

    // A second init overwrites nothing.
    writeFileSync(join(project, "flows/Hello.ts"), `${readFileSync(join(project, "flows/Hello.ts"), "utf8")}// mine\n`);
    const again = await run("node", [join(checkout.dir, "dist/src/cli/main.js"), "init", "my-flows"], work);
    assert.equal(again.code, 2, again.out);
    assert.match(again.out, /already has package\.json.*nothing was written/);
    assert.match(readFileSync(join(project, "flows/Hello.ts"), "utf8"), /\/\/ mine\n$/);

    linkProjectDependencies(project, checkout.dir);
    const checked = await tsc();
    assert.equal(checked.code, 0, checked.out);
    // The tsconfig does check flows: a wrong artifact type is an error.
    writeFileSync(join(project, "flows/Wrong.ts"), readFileSync(join(project, "flows/Hello.ts"), "utf8").replace(/this\.greeting = .*;/, "this.greeting = 42;"));
    const wrong = await tsc();
    rmSync(join(project, "flows/Wrong.ts"));
    assert.notEqual(wrong.code, 0, wrong.out);
    assert.match(wrong.out, /flows\/Wrong\.ts.*TS2322/);

    const lint = await flowrun("check", "flows/Hello.ts");
    assert.equal(lint.code, 0, lint.out);
    assert.doesNotMatch(lint.stdout, /warning/, "the generated flow follows the suggested practices");
    const hello = await flowrun("run", "flows/Hello.ts");
    assert.equal(hello.code, 0, hello.out);
    assert.match(hello.stdout, /\[HelloWorldFlow\/\S+\/end\/\d+\] Hello, world!/);

    writeFileSync(join(project, "read.mjs"), readmeClientSnippet());
    const read = await run("node", ["read.mjs"]);
    assert.equal(read.code, 0, read.out);
    assert.match(read.stdout, /^HelloWorldFlow\/\S+: Hello, world!$/m);
  });
});

describe("flowrun env types", () => {
  const FLOW = `import { FlowSpec, step, Parameter, project, current, dependencies } from "flowrun";

/** Shouts with a package only its step's environment has. */
@project({ name: "my-flows" })
export default class ShoutFlow extends FlowSpec {
  testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "unused" });
  declare shouted: string;

  /** Start. */
  @step
  start() {
    this.next(this.shout);
  }

  @dependencies({ packages: { "fr-typed": "^1.0.0" } })
  @step
  async shout() {
    const { shout } = await import("fr-typed");
    this.shouted = shout("hello");
    this.next(this.end);
  }

  /** Print. */
  @step
  end() {
    console.log(this.shouted);
  }
}
`;

  test("lets tsc see the types of a step's @dependencies package", { timeout: 300_000 }, async () => {
    writeFileSync(join(project, "flows/Shout.ts"), FLOW);
    const before = await tsc();
    assert.notEqual(before.code, 0, before.out);
    assert.match(before.out, /Cannot find module 'fr-typed'/);

    const types = await flowrun("env", "types", "flows/Shout.ts");
    assert.equal(types.code, 0, types.out);
    assert.match(types.stdout, /wrote tsconfig\.flowrun-env\.json/);
    assert.match(types.stdout, /fr-typed@1\.0\.0 {2}\(step shout\)/);
    const after = await tsc();
    assert.equal(after.code, 0, after.out);

    // The types are the package's own: misusing them is an error.
    writeFileSync(join(project, "flows/Shout.ts"), FLOW.replace('this.shouted = shout("hello")', "this.shouted = shout(42)"));
    const misuse = await tsc();
    writeFileSync(join(project, "flows/Shout.ts"), FLOW);
    assert.notEqual(misuse.code, 0, misuse.out);
    assert.match(misuse.out, /Argument of type 'number' is not assignable to parameter of type 'string'/);

    // The environment env types built is the one the run uses.
    const shout = await flowrun("run", "flows/Shout.ts");
    assert.equal(shout.code, 0, shout.out);
    assert.match(shout.stdout, /HELLO!/);
    assert.doesNotMatch(shout.stdout, /environment \S+ built/);
  });
});

describe("the flowrun command (bin/flowrun)", () => {
  const FLOW = `import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { FlowSpec, step } from "flowrun";

const anonHugeKb = () => Number(/AnonHugePages:\\s+(\\d+)/.exec(readFileSync("/proc/self/smaps_rollup", "utf8"))?.[1] ?? 0);

/** What the process, the step and a child process see of GLIBC_TUNABLES, and whether a big buffer got huge pages. */
export default class TunablesFlow extends FlowSpec {
  declare atStart: string;
  declare inStep: string;
  declare inChild: string;
  declare hugeKb: number;

  @step
  start() {
    const environ = readFileSync("/proc/self/environ", "utf8").split("\\0");
    this.atStart = environ.find((v) => v.startsWith("GLIBC_TUNABLES="))?.slice("GLIBC_TUNABLES=".length) ?? "unset";
    this.inStep = process.env.GLIBC_TUNABLES ?? "unset";
    this.inChild = execFileSync("sh", ["-c", 'printf %s "\${GLIBC_TUNABLES-unset}"'], { encoding: "utf8" });
    const before = anonHugeKb();
    const buffer = Buffer.allocUnsafe(64 * 2 ** 20).fill(1);
    this.hugeKb = anonHugeKb() - before;
    buffer.fill(0); // in use until measured: a collected buffer would take its pages with it
    this.next(this.end);
  }

  @step
  end() {}
}
`;
  const THP = "/sys/kernel/mm/transparent_hugepage/enabled";
  const linux = existsSync("/proc/self/smaps_rollup");

  async function tunablesSeen(env: Record<string, string> = {}) {
    const { code, out } = await run(join(project, "node_modules/.bin/flowrun"), ["run", "flows/Tunables.ts", "--run-id-file", "run-id"], project, env);
    assert.equal(code, 0, out);
    const runId = readFileSync(join(project, "run-id"), "utf8").trim();
    const dumped = await flowrun("dump", `TunablesFlow/${runId}/start`, "--json");
    assert.equal(dumped.code, 0, dumped.out);
    return (JSON.parse(dumped.stdout) as { artifacts: Record<string, unknown> }).artifacts;
  }

  test("backs large buffers with huge pages, and leaves steps' child processes the user's environment", { skip: !linux && "needs Linux's /proc", timeout: 120_000 }, async () => {
    writeFileSync(join(project, "flows/Tunables.ts"), FLOW);
    const seen = await tunablesSeen();
    assert.equal(seen.atStart, "glibc.malloc.hugetlb=1");
    assert.equal(seen.inStep, "unset");
    assert.equal(seen.inChild, "unset");
    // Where the kernel hands out transparent huge pages (not "never"), a 64 MB buffer gets them.
    if (!/\[never\]/.test(readFileSync(THP, "utf8"))) assert.ok((seen.hugeKb as number) >= 32 * 1024, `AnonHugePages grew ${seen.hugeKb} kB`);

    // A GLIBC_TUNABLES of the user's own is theirs: kept as it is, everywhere.
    const own = await tunablesSeen({ GLIBC_TUNABLES: "glibc.malloc.tcache_count=7" });
    assert.deepEqual([own.atStart, own.inStep, own.inChild], Array(3).fill("glibc.malloc.tcache_count=7"));
  });
});
