/**
 * The layers of ARCHITECTURE.md hold: src/core at the bottom, runtime/ above it, the CLI and
 * the client on top, the allowed directions inside runtime/, and no import cycles. The rules
 * are .dependency-cruiser.cjs; this runs the same check as `npm run check:layers`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

const root = new URL("..", import.meta.url).pathname;

test("every import follows the allowed directions between layers", () => {
  const cruise = spawnSync(
    process.execPath,
    ["node_modules/dependency-cruiser/bin/dependency-cruise.mjs", "src", "runtime", "--config", ".dependency-cruiser.cjs", "--output-type", "err"],
    { cwd: root, encoding: "utf8" },
  );
  assert.equal(cruise.status, 0, `forbidden imports:\n${cruise.stdout}${cruise.stderr}`);
  assert.match(cruise.stdout, /no dependency violations found \(\d{3,} modules/);
});
