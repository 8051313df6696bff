import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import {
  AbstractsFormatError, BUNDLED_DATA, BUNDLED_TEST_DATA, cleanAbstracts, loadAbstracts, type ArxivRecord,
} from "../flows/arxiv/load.js";

const dir = mkdtempSync(join(tmpdir(), "arxiv-load-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const record = (id: string, abstract = `Abstract of ${id}.`) =>
  JSON.stringify({ id, title: `Title ${id}`, abstract, categories: ["Quantum Physics"], published: "2010-01-01" });

function file(name: string, lines: string[], gzip = false): string {
  const path = join(dir, name);
  const text = lines.join("\n") + "\n";
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

describe("loadAbstracts", () => {
  it("reads the bundled 200-record file in test mode", async () => {
    const records = await loadAbstracts({ testMode: true });
    assert.equal(records.length, 200);
    assert.equal(records[0]?.id, "0704.1789");
    assert.deepEqual(records[0]?.categories, ["Mathematics - Number Theory", "Mathematics - Probability"]);
    assert.ok(BUNDLED_TEST_DATA.endsWith("abstracts.test.jsonl"));
  });

  it("reads the full bundled gzipped file by default", async () => {
    const records = await loadAbstracts();
    assert.equal(records.length, 11756);
    assert.ok(BUNDLED_DATA.endsWith("abstracts.jsonl.gz"));
    assert.ok(records.every((r) => r.abstract.length > 0 && r.categories.length > 0));
  });

  it("reads plain and gzipped user files alike, skipping blank lines", async () => {
    const lines = [record("a"), "", record("b"), record("c")];
    const plain = await loadAbstracts({ path: file("plain.jsonl", lines) });
    const gzipped = await loadAbstracts({ path: file("packed.jsonl.gz", lines, true) });
    assert.deepEqual(plain.map((r) => r.id), ["a", "b", "c"]);
    assert.deepEqual(gzipped, plain);
    assert.deepEqual(plain[0], {
      id: "a", title: "Title a", abstract: "Abstract of a.", categories: ["Quantum Physics"], published: "2010-01-01",
    } satisfies ArxivRecord);
  });

  it("stops after `limit` records; test mode on a user file takes its first 200", async () => {
    const path = file("many.jsonl", Array.from({ length: 250 }, (_, i) => record(`p${i}`)));
    assert.equal((await loadAbstracts({ path, limit: 3 })).length, 3);
    assert.equal((await loadAbstracts({ path, testMode: true })).length, 200);
  });

  it("names file:line for a line that is not JSON", async () => {
    const path = file("broken.jsonl", [record("a"), record("b"), "{not json"]);
    await assert.rejects(loadAbstracts({ path }), (err: unknown) => {
      assert.ok(err instanceof AbstractsFormatError);
      assert.equal(err.line, 3);
      assert.equal(err.where, `${path}:3`);
      assert.match(err.message, new RegExp(`^${escape(path)}:3: not valid JSON`));
      return true;
    });
  });

  it("names file:line for a record without an abstract or categories", async () => {
    const noAbstract = file("no-abstract.jsonl", [record("a"), JSON.stringify({ id: "x", categories: ["Physics"] })]);
    await assert.rejects(loadAbstracts({ path: noAbstract }), {
      message: `${noAbstract}:2: record x has no "abstract" (a non-empty string)`,
    });
    const noCategories = file("no-categories.jsonl.gz", [JSON.stringify({ id: "y", abstract: "Text." })], true);
    await assert.rejects(loadAbstracts({ path: noCategories }), {
      message: `${noCategories}:1: record y has no "categories" (an array of strings)`,
    });
  });

  it("reports a missing file and a corrupt gzip file by path", async () => {
    const missing = join(dir, "missing.jsonl");
    await assert.rejects(loadAbstracts({ path: missing }), { message: `abstracts file not found: ${missing}` });
    const corrupt = join(dir, "corrupt.jsonl.gz");
    writeFileSync(corrupt, "this is not gzip");
    await assert.rejects(loadAbstracts({ path: corrupt }), new RegExp(`cannot read ${escape(corrupt)}`));
  });
});

describe("cleanAbstracts", () => {
  it("drops withdrawal notices and repeated ids, and collapses whitespace", () => {
    const make = (id: string, abstract: string): ArxivRecord => ({ id, title: "", abstract, categories: ["Physics"] });
    const { abstracts, dropped } = cleanAbstracts([
      make("1", "A  real\n abstract."),
      make("2", "This paper has been withdrawn by the author due to an error."),
      make("1", "A duplicate."),
      make("3", "We model how a bill is withdrawn " + "and debated ".repeat(40) + "in parliament."),
    ]);
    assert.deepEqual(abstracts.map((r) => r.id), ["1", "3"]);
    assert.equal(abstracts[0]?.abstract, "A real abstract.");
    assert.deepEqual(dropped, { withdrawn: 1, duplicateId: 1 });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
