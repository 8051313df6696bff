/**
 * The check of data.mdb that runs before every open must not mistake a busy datastore for
 * a damaged one: another process committing while the check reads (as every worker of a
 * run does while the run writes) must never be reported as truncation or a bad page.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LmdbBackend } from "../runtime/datastore/lmdb-backend.js";
import { lmdbFileProblems } from "../runtime/datastore/lmdb-file-check.js";

const dir = mkdtempSync(join(tmpdir(), "flowrun-lmdb-check-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// Commits of growing and shrinking records, so the file grows and pages are freed and reused.
const WRITER = `
const { LmdbBackend } = await import(${JSON.stringify(new URL("../runtime/datastore/lmdb-backend.ts", import.meta.url).href)});
const backend = new LmdbBackend(process.argv[1]);
process.stdout.write("ready\\n");
for (let i = 0; ; i++) {
  await backend.putRecords([{ key: "big/" + (i % 50), value: "x".repeat((i * 7919) % 200_000) }, { key: "n/" + i, value: i }]);
  if (i % 10 === 0) await backend.deleteRecord("n/" + (i - 5));
}
`;

test("a check while another process commits finds nothing wrong", async () => {
  const seed = new LmdbBackend(dir);
  await seed.putRecords([{ key: "seed", value: 1 }]);
  await seed.close();
  const writer = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", WRITER, dir], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => {
      writer.stdout.once("data", () => resolve());
      writer.once("exit", (code) => reject(new Error(`the writer exited with ${code}`)));
    });
    const reports: string[] = [];
    for (let i = 0; i < 400; i++) reports.push(...lmdbFileProblems(join(dir, "data.mdb")));
    assert.deepEqual(reports, []);
  } finally {
    writer.kill("SIGKILL");
  }
});
