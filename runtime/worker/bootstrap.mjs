// Entry point of every task worker thread (piscina `filename`). Plain JS on purpose: on
// Node 20, tsx must be registered inside the worker before any .ts can be imported
// (`--import tsx` in execArgv does not reach workers).
import { existsSync } from "node:fs";
import { register } from "node:module";
import { workerData } from "node:worker_threads";
import { register as registerTsx } from "tsx/esm/api";

// `tsconfig: false`: a user's tsconfig (e.g. experimentalDecorators) must not change how
// flows compile; @step needs standard decorators.
registerTsx({ tsconfig: false });

// Running from source (.ts beside this file) or from the published package (compiled .js).
const ext = existsSync(new URL("./task-worker.ts", import.meta.url)) ? "ts" : "js";
register(new URL("./resolve-hooks.mjs", import.meta.url), {
  data: { flowrunUrl: new URL(`../../src/index.${ext}`, import.meta.url).href, envDir: workerData.envDir },
});

const { createTaskHandler } = await import(`./task-worker.${ext}`);
export default await createTaskHandler(workerData);
