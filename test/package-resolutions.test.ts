/**
 * A task worker starts with the package resolutions the CLI's thread made loading lmdb
 * (runtime/datastore/package-resolutions.ts), instead of making them again: each one through
 * a package's "exports" cost a worker's start milliseconds. The worker here is a real one,
 * started from runtime/worker/bootstrap.mjs as a pool starts it.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { recordedResolutions } from "../runtime/datastore/package-resolutions.js";
import "../runtime/datastore/commonjs-packages.js";

const BOOTSTRAP = new URL("../runtime/worker/bootstrap.mjs", import.meta.url).href;

/** What the worker resolved itself among what this thread had recorded, and the files it loaded lmdb and msgpackr from. */
async function bootWorker(resolutions: Record<string, string>): Promise<{ resolvedAgain: string[]; lmdb: string; msgpackr: string }> {
  const code = `
    const Module = require("node:module");
    const { workerData, parentPort } = require("node:worker_threads");
    const recordedFiles = new Set(Object.values(workerData.recorded));
    const findPath = Module._findPath;
    const resolvedAgain = [];
    Module._findPath = function (request, paths, isMain) {
      const key = request + "\\x00" + (require("node:path").isAbsolute(request) ? [""] : paths).join("\\x00");
      const cached = key in Module._pathCache;
      const found = findPath.call(this, request, paths, isMain);
      if (!cached && recordedFiles.has(found)) resolvedAgain.push(request);
      return found;
    };
    import(workerData.bootstrap).then(() => {
      const loaded = Object.keys(require.cache);
      parentPort.postMessage({
        resolvedAgain,
        lmdb: loaded.find((file) => /[\\\\/]lmdb[\\\\/]dist[\\\\/]/.test(file)),
        msgpackr: loaded.find((file) => /[\\\\/]msgpackr[\\\\/]dist[\\\\/]/.test(file)),
      });
    });`;
  const nativeLoads = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const worker = new Worker(code, { eval: true, workerData: { bootstrap: BOOTSTRAP, nativeLoads, resolutions, recorded: recordedResolutions() } });
  try {
    return await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

test("loading lmdb records where each of its packages resolved, among them those resolved through exports", () => {
  const recorded = Object.entries(recordedResolutions());
  const lmdbFile = createRequire(import.meta.url).resolve("lmdb");
  const msgpackrFile = createRequire(lmdbFile).resolve("msgpackr");
  assert.ok(recorded.some(([key, file]) => key.startsWith("lmdb\x00") && file === lmdbFile), "lmdb itself");
  assert.ok(recorded.some(([key, file]) => key.startsWith("msgpackr\x00") && file === msgpackrFile), "msgpackr, as lmdb requires it");
});

test("a worker given the recorded resolutions resolves none of them again, and loads the same files", async () => {
  const seeded = await bootWorker({ ...recordedResolutions() });
  assert.deepEqual(seeded.resolvedAgain, []);
  const unseeded = await bootWorker({});
  // Without them, the worker resolves lmdb's packages itself: what the recording saves.
  assert.ok(unseeded.resolvedAgain.includes("msgpackr"), `resolved again: ${unseeded.resolvedAgain.join(", ")}`);
  assert.equal(seeded.lmdb, unseeded.lmdb);
  assert.equal(seeded.msgpackr, unseeded.msgpackr);
  assert.equal(seeded.lmdb, createRequire(import.meta.url).resolve("lmdb"));
});
