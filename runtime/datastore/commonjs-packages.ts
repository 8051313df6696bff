/**
 * lmdb and msgpackr, loaded through `require`: their CommonJS builds are one file each,
 * where their ES module builds are ~25 modules that every worker thread resolves, reads and
 * compiles again (35 ms of each worker's start). lmdb's CommonJS build requires msgpackr's,
 * so flowrun's codec uses that same copy (its extensions registered once).
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const lmdb = require("lmdb") as typeof import("lmdb");
export const msgpackr = require("msgpackr") as typeof import("msgpackr");
