/**
 * Whether lmdb-js loads the addon built by scripts/build-lmdb.mjs, with LMDB's ITS#9496
 * fix: without it, a process opening the datastore while another commits can make a later
 * commit vanish. The build leaves a marker beside the addon it built (lmdb-js loads
 * build/Release before its prebuilt binaries).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";

// Written by scripts/build-lmdb.mjs: keep the two in step.
const PATCH_ID = "ITS#9496";
const MARKER = "build/Release/flowrun-lmdb-patch.json";

let warned = false;

function patchedAddonLoaded(): boolean {
  const marker = join(dirname(fileURLToPath(import.meta.resolve("lmdb"))), MARKER);
  try {
    return existsSync(marker) && (JSON.parse(readFileSync(marker, "utf8")) as { patch?: string }).patch === PATCH_ID;
  } catch {
    return false;
  }
}

/** Says once per process (from its main thread), on stderr, when the unpatched addon is in use. */
export function warnIfLmdbUnpatched(): void {
  if (warned || !isMainThread) return;
  warned = true;
  if (patchedAddonLoaded()) return;
  process.stderr.write(
    "flowrun: warning: lmdb's addon lacks the ITS#9496 fix, so a process opening the local datastore while another commits can lose that commit; run `npm rebuild flowrun` (or `node scripts/build-lmdb.mjs` in a checkout) with a C compiler installed\n",
  );
}
