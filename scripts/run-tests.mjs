#!/usr/bin/env node
// Runs every test/**/*.test.ts through node:test with tsx. Node 20's `--test` does not find
// .ts files by itself and does not expand globs, so the files are listed here.
// Usage: npm test [-- substring...]   (only files whose path contains a substring)
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const filters = process.argv.slice(2);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "fixtures" ? [] : find(path);
    return entry.name.endsWith(".test.ts") ? [relative(root, path)] : [];
  });
}

const files = find(join(root, "test"))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(2);
}
// `*.alone.test.ts` files load the machine enough (gigabytes through disk and S3) to starve a
// file running beside them: they run after the others, one at a time.
const alone = files.filter((f) => f.endsWith(".alone.test.ts"));
const together = files.filter((f) => !alone.includes(f));
let status = 0;
for (const [batch, concurrency] of [[together, 2], [alone, 1]]) {
  if (batch.length === 0) continue;
  const result = spawnSync(
    process.execPath,
    // A test still running after 10 minutes is hung: it fails, and the suite goes on.
    ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-timeout=600000", "--test-reporter=spec", ...batch],
    { cwd: root, stdio: "inherit" },
  );
  status ||= result.status ?? 1;
}
process.exit(status);
