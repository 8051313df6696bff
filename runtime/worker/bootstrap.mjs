// Entry point of every task worker thread (piscina `filename`). Plain JS on purpose: it runs
// before anything could compile TypeScript.
//
// The flow arrives compiled to plain ES modules (runtime/compile/flow-compiler.ts), so the
// published package registers no module hooks at all: no hooks thread, no TypeScript
// compiler in the worker. Only a checkout running flowrun's own .ts sources registers tsx,
// for those.
import { existsSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { workerData } from "node:worker_threads";

// A worker terminated while a native addon registers itself takes the whole process down
// (lmdb's init throws into the terminating thread: "FATAL ERROR: ... napi_throw"). So native
// code loads counted in the pool's shared [loading, closing] pair: a pool that closes waits
// for the count to drop to 0 (runtime/executor/worker-threads.ts), and a worker that starts
// once its pool is closing loads nothing and ends itself. (piscina starts such workers: the
// replacement of a worker stopped by @timeout whose exit arrives after the pool was
// destroyed. Ending before it is ready, it is not replaced again, and nothing of it keeps
// the process alive.) What is counted: lmdb, and the flow's import when the worker binds as
// it boots (its packages may load addons of their own, and a warmed step may never run).
const [LOADING, CLOSING] = [0, 1];
const nativeLoads = new Int32Array(workerData.nativeLoads);

async function loadingNative(load) {
  Atomics.add(nativeLoads, LOADING, 1);
  const closing = Atomics.load(nativeLoads, CLOSING) === 1;
  try {
    if (!closing) return await load();
  } finally {
    Atomics.sub(nativeLoads, LOADING, 1);
  }
  process.exit(0);
}

// The package resolutions the pool's thread made loading lmdb (runtime/datastore/package-resolutions.ts),
// which this thread would otherwise make again. lmdb is required from where the worker's own
// datastore code requires it (runtime/datastore), so those resolutions apply to it too.
if (typeof Module._pathCache === "object") Object.assign(Module._pathCache, workerData.resolutions);
await loadingNative(() => createRequire(new URL("../datastore/commonjs-packages.js", import.meta.url))("lmdb"));

let taskWorker = new URL("./task-worker.js", import.meta.url).href;
if (existsSync(new URL("./task-worker.ts", import.meta.url))) {
  // lmdb is loaded before the hooks: once they are registered, every resolution is a round
  // trip to their thread.
  const { register } = await import("tsx/esm/api");
  register({ tsconfig: false });
  taskWorker = new URL("./task-worker.ts", import.meta.url).href;
}
const { createTaskHandler } = await import(taskWorker);
const { setup } = workerData;
export default await (setup ? loadingNative(() => createTaskHandler(setup)) : createTaskHandler());
