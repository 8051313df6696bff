/**
 * The piscina pools task workers run in, and the first worker thread, started by the CLI
 * before it has loaded the rest of itself: a worker needs no flow to boot (it binds to its
 * pool's flow with its first request), so its ~0.1 s start overlaps the CLI's own, and the
 * first pool that can use it (the start step's) adopts it.
 */
import { createRequire } from "node:module";
import { recordedResolutions } from "../datastore/package-resolutions.js";
import type { WorkerSetup } from "../protocol.js";

// Through `require`: piscina's ES module wrapper costs ~10 ms more, before the first worker can start.
const { Piscina } = createRequire(import.meta.url)("piscina") as typeof import("piscina");
type Piscina = import("piscina").Piscina;

const BOOTSTRAP = new URL("../worker/bootstrap.mjs", import.meta.url).href;

/** Threads of the early pool: the pool gate, not piscina, keeps it within --max-workers. */
const EARLY_POOL_THREADS = 1024;

/** Per pool: [workers loading native addons now, closing] (see runtime/worker/bootstrap.mjs). */
const nativeLoads = new WeakMap<Piscina, Int32Array>();
const [LOADING, CLOSING] = [0, 1];
/** How long a closing pool waits for workers loading native addons; far more than a load takes. */
const NATIVE_LOAD_WAIT_MS = 10_000;

/**
 * A pool of up to `maxThreads` task workers. With `tasksPerThread` above 1 (a queue worker
 * whose concurrency exceeds its cores), each thread runs that many tasks at once, and all
 * threads start at once so tasks spread over them instead of filling the first. With
 * `bindAtBoot`, each worker opens the datastore and imports the flow as it boots, before its
 * first task: only once this process has the datastore open (see openBackend's
 * `openInThisProcess`).
 */
export function newWorkerPool(maxThreads: number, memoryMb?: number, tasksPerThread = 1, bindAtBoot?: WorkerSetup): Piscina {
  const loads = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  const pool = new Piscina({
    filename: BOOTSTRAP,
    // The early pool starts before this thread has loaded lmdb: its worker resolves for itself.
    workerData: { nativeLoads: loads.buffer, setup: bindAtBoot, resolutions: recordedResolutions() },
    minThreads: tasksPerThread > 1 ? maxThreads : 1,
    maxThreads,
    idleTimeout: 60_000,
    // Its run-time histograms cost each pool ~20 ms to set up, and nothing reads them.
    recordTiming: false,
    concurrentTasksPerWorker: tasksPerThread,
    // The default ("sync") parks an idle worker in Atomics.wait, which starves its event
    // loop: lmdb-js never renews the worker's read snapshot between tasks.
    atomics: "disabled",
    resourceLimits: memoryMb ? { maxOldGenerationSizeMb: memoryMb } : undefined,
    // Workers inherit the CLI's execArgv (`--import tsx` in a checkout): they need none of it.
    execArgv: [],
  });
  // The one error piscina emits here: a task aborted by @timeout whose answer was already on
  // its way. The task has failed as timed out; its late answer is dropped, not a crash.
  pool.on("error", (error: Error) => {
    if (!/^Unexpected message from Worker/.test(error.message)) process.emitWarning(error);
  });
  nativeLoads.set(pool, loads);
  return pool;
}

/**
 * Stops a pool's workers, but none while it loads a native addon: terminating a thread
 * inside lmdb's addon initialisation aborts the whole process ("FATAL ERROR: napi_throw").
 */
export async function destroyWorkerPool(pool: Piscina): Promise<void> {
  const loads = nativeLoads.get(pool);
  if (loads) {
    Atomics.store(loads, CLOSING, 1);
    const giveUp = Date.now() + NATIVE_LOAD_WAIT_MS;
    while (Atomics.load(loads, LOADING) > 0 && Date.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await pool.destroy();
}

let early: Piscina | undefined;

/** Starts the first worker now; `run` and `resume` call this before loading anything else. */
export function startFirstWorker(): void {
  early ??= newWorkerPool(EARLY_POOL_THREADS);
}

/** The early pool, once: for a pool without a memory limit. */
export function adoptFirstWorker(): Piscina | undefined {
  const pool = early;
  early = undefined;
  return pool;
}

/** Stops the early worker if nothing adopted it (the command failed before running anything). */
export async function stopUnusedFirstWorker(): Promise<void> {
  const pool = adoptFirstWorker();
  if (pool) await destroyWorkerPool(pool);
}
