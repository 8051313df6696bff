/**
 * The TypeScript compiler API, loaded with `require`: `import ts from "typescript"` makes
 * Node scan the 9 MB CommonJS file for named exports first, about 1 s on every CLI start.
 * Types come from `import type TS from "typescript"` in the modules that need them.
 */
import { createRequire } from "node:module";
import type TS from "typescript";

const ts: typeof TS = createRequire(import.meta.url)("typescript");
export default ts;
