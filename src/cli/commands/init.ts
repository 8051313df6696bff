/**
 * `flowrun init [DIR]`: a project ready to run and type-check flows. It writes an ESM
 * package.json depending on flowrun, a tsconfig.json with what flows need (standard
 * decorators, NodeNext modules), an empty tsconfig.flowrun-env.json that `flowrun env
 * types` fills with the paths of `@dependencies` packages, flows/Hello.ts, and a
 * .gitignore. It never overwrites a file: if any of them exists, it writes nothing.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { UsageError } from "../../core/errors.js";
import { flowrunPackage } from "../../core/package-version.js";

/** The file `flowrun env types` writes, which the generated tsconfig.json extends. */
export const ENV_TSCONFIG = "tsconfig.flowrun-env.json";

export async function run(args: string[]): Promise<number> {
  const option = args.find((arg) => arg.startsWith("-"));
  if (option) throw new UsageError(`unknown option ${option}`, { hint: "flowrun init [DIR]" });
  if (args.length > 1) throw new UsageError(`init takes one directory, not ${args.length}`, { hint: "flowrun init [DIR]" });
  const dir = resolve(args[0] ?? ".");
  const files = projectFiles(packageName(basename(dir)));
  const existing = Object.keys(files).filter((file) => existsSync(join(dir, file)));
  if (existing.length > 0) {
    throw new UsageError(`${shown(dir)}/ already has ${existing.join(", ")}; nothing was written`, {
      hint: "flowrun init NEW_DIR makes a new project; in an existing one, add flowrun with `npm install flowrun`",
    });
  }
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content, { flag: "wx" });
  }
  const cd = shown(dir);
  const lines = [
    `Created ${cd}/: ${Object.keys(files).join(", ")}`,
    "",
    "Next:",
    ...(cd !== "." ? [`  cd ${cd.includes(" ") ? JSON.stringify(cd) : cd}`] : []),
    "  npm install",
    "  npx flowrun run flows/Hello.ts",
    "  npx tsc                            # type-check the flows",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/** `dir` as the user would type it: relative when below the working directory, else absolute. */
export function shown(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel === "" ? "." : rel.startsWith("..") ? dir : rel;
}

/** An npm package name (lower case, URL-safe) from the directory's name. */
function packageName(dirName: string): string {
  const name = dirName.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+|-+$/g, "");
  return name || "flows";
}

function projectFiles(name: string): Record<string, string> {
  const flowrun = flowrunPackage();
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    "package.json": json({
      name,
      version: "0.1.0",
      private: true,
      type: "module",
      scripts: { typecheck: "tsc" },
      dependencies: { flowrun: `^${flowrun.version}` },
      devDependencies: {
        "@types/node": flowrun.devDependencies["@types/node"] ?? "*",
        typescript: flowrun.dependencies.typescript ?? "*",
      },
    }),
    "tsconfig.json": TSCONFIG,
    [ENV_TSCONFIG]: json({ compilerOptions: { paths: {} } }),
    "flows/Hello.ts": helloFlow(name),
    ".gitignore": "node_modules/\n.flowrun/\n",
  };
}

const TSCONFIG = `{
  // The types of the steps' @dependencies packages: \`npx flowrun env types flows/<Flow>.ts\` writes them there.
  "extends": "./${ENV_TSCONFIG}",
  "compilerOptions": {
    "target": "ES2023",
    // Flows use standard decorators (@step): do not turn on experimentalDecorators.
    "lib": ["ES2023", "esnext.decorators"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "skipLibCheck": true,
    "noEmit": true,
    "types": ["node"]
  },
  "include": ["flows", "*.ts"]
}
`;

function helloFlow(project: string): string {
  return `import { FlowSpec, step, Parameter, project, current } from "flowrun";

/** Greets someone: \`npx flowrun run flows/Hello.ts --who you\`. */
@project({ name: ${JSON.stringify(project)} })
export default class HelloWorldFlow extends FlowSpec {
  who = Parameter("who", { default: "world", help: "Who to greet" });
  testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "Run quickly on little data" });

  declare greeting: string;

  /** Build the greeting. */
  @step
  start() {
    this.greeting = \`Hello, \${this.who}!\`;
    this.next(this.end);
  }

  /** Print it. */
  @step
  end() {
    console.log(this.greeting);
  }
}
`;
}
