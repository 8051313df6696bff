/**
 * `flowrun datastore backup DIR` makes a copy that is a working datastore, and
 * `flowrun datastore verify` finds nothing wrong in it; a byte changed inside a stored
 * blob is found by verify (one line naming the blob, exit 2), though every read still works.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { describeResult, exampleFlow, runCli, runFlowCli, tempDatastore, type TempDatastore } from "./support/flowrun-cli.js";

describe("datastore backup and verify", () => {
  let store: TempDatastore;
  let runId = "";
  let backup: string;
  before(async () => {
    store = tempDatastore();
    const result = await runFlowCli(exampleFlow("Hello.ts"), ["--quiet"], store);
    assert.equal(result.code, 0, describeResult(result));
    runId = result.runId;
    backup = join(store.root, "..", "backup");
  });
  after(() => store?.remove());

  test("a backup is a datastore with the same runs, and verify finds no problem in it", async () => {
    const made = await runCli(["datastore", "backup", backup], { env: store.env });
    assert.equal(made.code, 0, describeResult(made));
    const verified = await runCli(["datastore", "verify", "--datastore-root", backup]);
    assert.equal(verified.code, 0, describeResult(verified));
    assert.match(verified.stdout, /no problems found/);
    const dumped = await runCli(["dump", `HelloFlow/${runId}`, "--artifact", "repeated", "--datastore-root", backup]);
    assert.equal(dumped.code, 0, describeResult(dumped));
    assert.match(dumped.stdout, /Hello, world!/);
  });

  test("verify names a blob whose bytes were changed, exit 2", async () => {
    const file = join(backup, "data.mdb");
    const bytes = readFileSync(file);
    // The msgpack encoding of the `greeting` artifact ("Hello, world!": a 13-byte string).
    const at = bytes.indexOf(Buffer.concat([Buffer.from([0xad]), Buffer.from("Hello, world!")]));
    assert.ok(at >= 0, "the artifact's bytes are in the file");
    bytes.write("h", at + 1); // "hello, world!"
    writeFileSync(file, bytes);
    const verified = await runCli(["datastore", "verify", "--datastore-root", backup]);
    assert.equal(verified.code, 2, describeResult(verified));
    assert.match(verified.stdout, /^blob [0-9a-f]{64}: its bytes do not match its hash/m);
    assert.match(verified.stderr, /^flowrun: 1 problem in /);
  });
});
