// Entry point of every task worker thread (piscina `filename`). Plain JS on purpose: it runs
// before anything could compile TypeScript.
//
// The flow arrives compiled to plain ES modules (runtime/compile/flow-compiler.ts), so the
// published package registers no module hooks at all: no hooks thread, no TypeScript
// compiler in the worker. Only a checkout running flowrun's own .ts sources registers tsx,
// for those.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

let taskWorker = new URL("./task-worker.js", import.meta.url).href;
if (existsSync(new URL("./task-worker.ts", import.meta.url))) {
  // Before the hooks: once registered, every resolution is a round trip to their thread.
  createRequire(import.meta.url)("lmdb");
  const { register } = await import("tsx/esm/api");
  register({ tsconfig: false });
  taskWorker = new URL("./task-worker.ts", import.meta.url).href;
}
const { createTaskHandler } = await import(taskWorker);
export default await createTaskHandler();
