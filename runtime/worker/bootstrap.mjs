// Entry point of every task worker thread (piscina `filename`). Plain JS on purpose: on
// Node 20, tsx must be registered inside the worker before any .ts can be imported
// (`--import tsx` in execArgv does not reach workers).
//
// Order matters for start-up time: once module hooks are registered, every import
// resolution is a round trip to the hooks thread. So everything that needs no hooks (lmdb
// and, from the published package, the compiled runtime) loads first; tsx and flowrun's
// resolution hooks are registered just before the flow itself is imported.
import { existsSync } from "node:fs";
import { register } from "node:module";
import { workerData } from "node:worker_threads";

const fromSource = existsSync(new URL("./task-worker.ts", import.meta.url));
const ext = fromSource ? "ts" : "js";
await import("lmdb");
const compiled = fromSource ? undefined : await import("./task-worker.js");

const { register: registerTsx } = await import("tsx/esm/api");
// `tsconfig: false`: a user's tsconfig (e.g. experimentalDecorators) must not change how
// flows compile; @step needs standard decorators.
registerTsx({ tsconfig: false });
register(new URL("./resolve-hooks.mjs", import.meta.url), {
  data: { flowrunUrl: new URL(`../../src/index.${ext}`, import.meta.url).href, envDir: workerData.envDir },
});

const { createTaskHandler } = compiled ?? (await import("./task-worker.ts"));
export default await createTaskHandler(workerData);
