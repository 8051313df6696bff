/**
 * Where a compiled module lives, and the way back: messages and stacks from a worker name
 * the user's source files, never the compile cache.
 */
import { extname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const EXT = extname(fileURLToPath(import.meta.url));
/** What a compiled flow's `flowrun` import names: the runtime running it (`src/index.ts` in a checkout, `dist/src/index.js` installed). */
export const RUNTIME_INDEX_URL = new URL(`../../src/index${EXT}`, import.meta.url).href;
/** The flow API alone (no client), for a module whose `flowrun` imports name nothing else: see src/flow-api.ts. */
export const FLOW_API_URL = new URL(`../../src/flow-api${EXT}`, import.meta.url).href;

/** What a worker imports: the compiled entry, and where it came from. */
export interface CompiledFlow {
  /** The flow file, absolute. */
  file: string;
  /** `file:` URL of the compiled flow module. */
  url: string;
  /** The directory holding the compiled modules: `<outDir>/<absolute source path>.mjs`. */
  outDir: string;
}

/** Where a source compiles to: its absolute path under the output directory, plus `.mjs` (always ESM). */
export function outputPath(outDir: string, source: string): string {
  return `${join(outDir, relative(resolve("/"), source))}.mjs`;
}

/** `text` with every compiled module's path or URL replaced by its source's. */
export function sourcePathsIn(text: string, flow: CompiledFlow): string {
  let result = text;
  for (const [prefix, root] of [[pathToFileURL(flow.outDir).href, "file://"], [flow.outDir, ""]] as const) {
    result = result.replace(new RegExp(`${escapeRegExp(prefix)}(/[^\\s'"()]*?)\\.mjs`, "g"), `${root}$1`);
  }
  return result;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
