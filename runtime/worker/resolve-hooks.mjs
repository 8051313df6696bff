// Module resolution hooks registered inside every task worker (module.register), running
// in Node's loader thread. Plain JS: they load before tsx can compile anything.
//
// - `flowrun` always resolves to the runtime that is running the flow, whatever copy the
//   flow's own folder might hold, so `current`, `FlowSpec` and the decorators the flow sees
//   are the ones the worker drives.
// - With a dependency environment (`envDir`), bare imports made by the flow's own code
//   resolve from that environment's node_modules first, then as usual. Imports made by
//   flowrun itself or by installed packages resolve as usual (a package finds its own
//   dependencies beside it). Node built-ins are never redirected.
import { isBuiltin } from "node:module";
import { pathToFileURL } from "node:url";

let flowrunUrl;
let envParentUrl;
let runtimeDirs = [];

export async function initialize(data) {
  flowrunUrl = data.flowrunUrl;
  envParentUrl = data.envDir ? pathToFileURL(`${data.envDir}/package.json`).href : undefined;
  // flowrunUrl is <root>/src/index.ts (or .js when compiled); the runtime lives in <root>/src and <root>/runtime.
  runtimeDirs = ["src/", "runtime/"].map((dir) => new URL(`../${dir}`, data.flowrunUrl).href);
}

function isUserCode(parentURL) {
  return !!parentURL && !parentURL.includes("/node_modules/") && !runtimeDirs.some((dir) => parentURL.startsWith(dir));
}

function isBare(specifier) {
  return !/^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:|#)/.test(specifier);
}

// Flow code is ESM by contract (decorators, `import`), even in a project whose package.json
// says "type": "commonjs" (npm init's default): without this, tsx compiles the flow to CJS.
const TS_SOURCE = /\.(m?ts|tsx)$/;

async function resolveUserTypeScript(result) {
  if (TS_SOURCE.test(new URL(result.url).pathname) && isUserCode(result.url)) return { ...result, format: "module" };
  return result;
}

export async function resolve(specifier, context, nextResolve) {
  return resolveUserTypeScript(await resolveSpecifier(specifier, context, nextResolve));
}

async function resolveSpecifier(specifier, context, nextResolve) {
  // Through the rest of the chain (not short-circuited) so tsx can claim a .ts entry.
  if (specifier === "flowrun") return nextResolve(flowrunUrl, context);
  if (envParentUrl && isBare(specifier) && !isBuiltin(specifier) && isUserCode(context.parentURL)) {
    try {
      return await nextResolve(specifier, { ...context, parentURL: envParentUrl });
    } catch (error) {
      if (error?.code !== "ERR_MODULE_NOT_FOUND" && !/Cannot find (package|module)/.test(error?.message ?? "")) throw error;
    }
  }
  return nextResolve(specifier, context);
}
