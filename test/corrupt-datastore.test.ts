/**
 * A damaged local datastore never reaches the user as a crash: `runs`, `dump` and `resume`
 * on a data.mdb cut to half (was: Bus error), with a page of garbage in the middle of its
 * records tree (was: an `IS_LEAF(mp)` assertion abort) or emptied to 0 bytes (was: silently
 * "no runs") each exit 2 with one line naming the file and saying to restore a copy.
 */
import assert from "node:assert/strict";
import { cpSync, openSync, rmSync, statSync, truncateSync, writeSync, closeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { describeResult, exampleFlow, runCli, runFlowCli, tempDatastore, type TempDatastore } from "./support/flowrun-cli.js";
import { middlePageOf } from "./support/lmdb-pages.js";

const HELLO = exampleFlow("Hello.ts");

const damages: Record<string, (file: string) => void> = {
  "cut to half its size": (file) => truncateSync(file, Math.floor(statSync(file).size / 2)),
  "a page of garbage in the middle of the records tree": (file) => {
    const { pgno, pageSize } = middlePageOf(file, "records");
    const fd = openSync(file, "r+");
    writeSync(fd, randomBytes(pageSize), 0, pageSize, pgno * pageSize);
    closeSync(fd);
  },
  "emptied to 0 bytes": (file) => truncateSync(file, 0),
};

describe("a damaged data.mdb", () => {
  let pristine: TempDatastore;
  let runId = "";
  before(async () => {
    pristine = tempDatastore();
    // Enough records (three runs' tasks and logs) for the records tree to have a middle.
    for (let i = 0; i < 3; i++) {
      const result = await runFlowCli(HELLO, ["--quiet"], pristine);
      assert.equal(result.code, 0, describeResult(result));
      runId = result.runId;
    }
  });
  after(() => pristine?.remove());

  for (const [damage, apply] of Object.entries(damages)) {
    describe(damage, { concurrency: 3 }, () => {
      let store: TempDatastore;
      before(() => {
        store = tempDatastore();
        cpSync(pristine.root, store.root, { recursive: true });
        apply(join(store.root, "data.mdb"));
      });
      after(() => store?.remove());

      const commands: Record<string, () => string[]> = {
        runs: () => ["runs"],
        dump: () => ["dump", `HelloFlow/${runId}`],
        resume: () => ["resume", HELLO, "--origin-run-id", runId],
      };
      for (const [name, args] of Object.entries(commands)) {
        test(`${name}: exit 2, one line naming data.mdb and what to do`, async () => {
          const result = await runCli(args(), { env: store.env });
          assert.equal(result.code, 2, describeResult(result));
          const lines = result.stderr.trimEnd().split("\n");
          const file = join(store.root, "data.mdb");
          assert.equal(lines.length, 2, describeResult(result));
          assert.ok(lines[0]!.startsWith(`flowrun: local datastore ${store.root} is corrupt: ${file}: `), describeResult(result));
          assert.match(lines[1]!, /^ {2}hint: restore .*data\.mdb from a copy/);
        });
      }
    });
  }
});
