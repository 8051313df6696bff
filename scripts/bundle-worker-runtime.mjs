#!/usr/bin/env node
// Part of `npm run build`: turns dist/runtime/worker/task-worker.js, as tsc emitted it, into one
// module holding the runtime a task worker loads (the worker, the datastores, the metadata
// store). Every step's worker thread loads that runtime afresh, and Node 20 resolves, reads
// and compiles each of its ~30 modules in every thread: one module instead saves ~15 ms of
// CPU per worker, ~8% of a 10-step linear flow's run on 2 cores.
//
// What stays outside the bundle, imported as it was:
// - flowrun's public modules (dist/src/): a compiled flow imports the flow API, and the worker
//   must see the same `current`, registry and error classes as the flow does;
// - packages (lmdb, msgpackr, the AWS SDK), which resolve from node_modules as before.
// A static import of a package is hoisted to the bundle's top, where every worker would load
// it: the build fails on any such import (lmdb and msgpackr load through createRequire).
// Each bundled module keeps its own `import.meta.url` (paths to other files are relative to it).
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const workerFile = resolve(root, "dist/runtime/worker/task-worker.js");
const publicModules = resolve(root, "dist/src") + "/";

const keepPublicModulesOutside = {
  name: "flowrun-public-modules",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      if (!path.startsWith(publicModules)) return undefined;
      return { path: `./${relative(dirname(workerFile), path)}`, external: true };
    });
  },
};

const keepModuleUrls = {
  name: "flowrun-module-urls",
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      const contents = await readFile(args.path, "utf8");
      const own = JSON.stringify(relative(dirname(workerFile), args.path));
      return { contents: contents.replaceAll("import.meta.url", `new URL(${own}, import.meta.url).href`), loader: "js" };
    });
  },
};

const result = await esbuild.build({
  entryPoints: [workerFile],
  outfile: workerFile,
  allowOverwrite: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  plugins: [keepPublicModulesOutside, keepModuleUrls],
  metafile: true,
  logLevel: "warning",
});

const [output] = Object.values(result.metafile.outputs);
const unexpected = output.imports
  .filter((i) => i.kind === "import-statement" && !i.path.startsWith("node:") && !i.path.startsWith("./"))
  .map((i) => i.path);
if (unexpected.length > 0) {
  console.error(`bundle-worker-runtime: every worker thread would now load ${unexpected.join(", ")} as it starts; import it where it is used (await import(...)) instead`);
  process.exit(1);
}
