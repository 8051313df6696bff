/**
 * lmdb and msgpackr, loaded through `require`: their CommonJS builds are one file each,
 * where their ES module builds are ~25 modules that every worker thread resolves, reads and
 * compiles again (35 ms of each worker's start). lmdb's CommonJS build requires msgpackr's,
 * so flowrun's codec uses that same copy (its extensions registered once). The resolutions
 * loading them makes are kept for worker threads (package-resolutions.ts).
 */
import { createRequire } from "node:module";
import { recordingResolutions } from "./package-resolutions.js";

const require = createRequire(import.meta.url);

export const { lmdb, msgpackr } = recordingResolutions(() => ({
  lmdb: require("lmdb") as typeof import("lmdb"),
  msgpackr: require("msgpackr") as typeof import("msgpackr"),
}));
