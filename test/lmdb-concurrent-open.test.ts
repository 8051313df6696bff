/**
 * Opening the local datastore while another process commits must not lose that commit.
 * Every `flowrun runs`, `logs`, `tag` or client script opens the datastore while a run may
 * be writing task records. The LMDB bundled with lmdb-js set the shared "last transaction
 * id" from a meta page it had read a moment before, without the writer lock (LMDB
 * ITS#9496): a commit in between was then overwritten by the next writer, silently. The
 * build step in scripts/build-lmdb.mjs compiles lmdb-js with that line removed.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";

const dir = mkdtempSync(join(tmpdir(), "flowrun-lmdb-open-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const BACKEND = JSON.stringify(new URL("../runtime/datastore/lmdb-backend.ts", import.meta.url).href);
const WRITES_PER_WRITER = 1500;

/** Commits one record at a time, as a run commits task records. */
const WRITER = `
const { LmdbBackend } = await import(${BACKEND});
const backend = new LmdbBackend(process.argv[1]);
for (let i = 0; i < ${WRITES_PER_WRITER}; i++) await backend.putRecords([{ key: "w/" + process.argv[2] + "/" + i, value: i }]);
await backend.close();
`;

/** Opens, reads and closes over and over, as CLI commands and client scripts do. */
const OPENER = `
const { LmdbBackend } = await import(${BACKEND});
for (;;) {
  const backend = new LmdbBackend(process.argv[1]);
  await backend.getRecord("w/a/0");
  await backend.close();
}
`;

function node(script: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, dir, ...args], { stdio: ["ignore", "ignore", "pipe"] });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

test("commits made while other processes open the datastore are all kept", async () => {
  const seed = new LmdbBackend(dir);
  await seed.putRecords([{ key: "seed", value: 1 }]);
  await seed.close();

  let writing = true;
  const openers = new Set<ChildProcess>();
  // An opener that fails is replaced: the test is about the writers' commits.
  const keepOpening = async (): Promise<void> => {
    while (writing) {
      const opener = node(OPENER);
      openers.add(opener);
      await exited(opener);
      openers.delete(opener);
    }
  };
  const opening = [keepOpening(), keepOpening()];
  try {
    const writers = ["a", "b"].map((name) => node(WRITER, name));
    const stderr = writers.map((writer) => {
      let text = "";
      writer.stderr!.on("data", (chunk) => (text += chunk));
      return () => text;
    });
    const codes = await Promise.all(writers.map(exited));
    assert.deepEqual(codes, [0, 0], `a writer failed: ${stderr.map((read) => read()).join("\n")}`);
  } finally {
    writing = false;
    for (const opener of openers) opener.kill("SIGKILL");
    await Promise.all(opening);
  }

  const check = new LmdbBackend(dir);
  try {
    const kept = await check.listKeys("w/");
    assert.equal(kept.length, 2 * WRITES_PER_WRITER, `${2 * WRITES_PER_WRITER - kept.length} committed records were lost`);
  } finally {
    await check.close();
  }
});
