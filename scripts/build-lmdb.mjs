#!/usr/bin/env node
// Compiles lmdb-js's native addon with one line of its bundled LMDB removed (run at install).
//
// mdb_env_open2() stores the transaction id of the meta page it read into the shared lock
// region without holding the writer lock. When another process commits between that read
// and the store, the id goes backwards, and the next writer's commit lands on a meta page
// that is not the newest: committed data is silently lost, or the free list is corrupted
// ("overlapping duplicate entry"). Upstream LMDB fixed this as ITS#9496 (0.9.29); the copy
// inside lmdb-js 3.5 still has it. The exclusive opener sets the id in mdb_env_share_locks(),
// so no opener needs the removed line.
//
// The addon is built into node_modules/lmdb/build/Release, which lmdb-js loads before its
// prebuilt binaries. A marker beside it records what was built; the datastore warns when it
// is missing (test/lmdb-concurrent-open.test.ts shows what goes wrong without it).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Read by runtime/datastore/lmdb-addon.ts: keep the two in step.
const PATCH_ID = "ITS#9496";
const MARKER = "build/Release/flowrun-lmdb-patch.json";

const BUGGY = "\tif (env->me_txns)\n\t\tenv->me_txns->mti_txnid = meta.mm_txnid;\n\n#if MDB_DEBUG";
const FIXED = "\t/* flowrun: ITS#9496, the id is set by the exclusive opener only (mdb_env_share_locks). */\n\n#if MDB_DEBUG";

function fail(message) {
  console.error(`flowrun: the patched LMDB addon was not built: ${message}`);
  console.error("flowrun: the local datastore still works, but a process opening it while another commits can lose that commit; fix the cause and run `npm rebuild flowrun` (or `node scripts/build-lmdb.mjs`)");
  process.exit(process.env.FLOWRUN_REQUIRE_LMDB_PATCH === "1" ? 1 : 0);
}

const packageDir = dirname(fileURLToPath(import.meta.resolve("lmdb")));
const marker = join(packageDir, MARKER);
if (existsSync(marker) && JSON.parse(readFileSync(marker, "utf8")).patch === PATCH_ID) process.exit(0);

const source = join(packageDir, "dependencies/lmdb/libraries/liblmdb/mdb.c");
const text = readFileSync(source, "utf8");
if (text.includes(BUGGY)) writeFileSync(source, text.replace(BUGGY, FIXED));
else if (!text.includes(FIXED)) fail(`${source} has changed: check whether this lmdb version still needs the ITS#9496 fix`);

// npm hands lifecycle scripts its bundled node-gyp; outside npm, use the one beside npm.
const nodeGyp =
  process.env.npm_config_node_gyp ?? join(dirname(dirname(process.execPath)), "lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
if (!existsSync(nodeGyp)) fail(`node-gyp not found at ${nodeGyp}`);
console.error("flowrun: building lmdb's native addon with the ITS#9496 fix (about 20 s, once per install)");
const build = spawnSync(process.execPath, [nodeGyp, "rebuild", "--jobs", "max"], {
  cwd: packageDir,
  // The same build options as lmdb-js's own prebuilt binaries for Node.
  env: { ...process.env, ENABLE_V8_FUNCTIONS: "true", ENABLE_FAST_API_CALLS: "true" },
  stdio: ["ignore", "ignore", "pipe"],
  encoding: "utf8",
});
if (build.status !== 0) {
  fail(`node-gyp exited with ${build.status}: ${build.stderr.split("\n").filter((line) => /ERR!|error/.test(line)).slice(0, 3).join(" | ")}`);
}
writeFileSync(marker, JSON.stringify({ patch: PATCH_ID, node: process.versions.modules, builtAt: new Date().toISOString() }) + "\n");
console.error(`flowrun: built ${join(packageDir, "build/Release/lmdb.node")}`);
