"use strict";
// The entry point of the single executable (scripts/build-binary.mjs fills in the two
// constants). It unpacks flowrun's runtime, carried as the asset runtime.gz, once into
// $XDG_CACHE_HOME/flowrun/runtime/<version>-<hash> (else ~/.cache/..., else the temp
// directory), checking the asset against its hash first, then runs the CLI from there. A
// later start finds the directory complete and unpacks nothing.
const { createHash } = require("node:crypto");
const { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync, accessSync, constants } = require("node:fs");
const { createRequire } = require("node:module");
const { homedir, tmpdir, userInfo } = require("node:os");
const { dirname, isAbsolute, join } = require("node:path");
const { pathToFileURL } = require("node:url");
const { gunzipSync } = require("node:zlib");
const sea = require("node:sea");

const VERSION = "__FLOWRUN_VERSION__";
const RUNTIME_HASH = "__RUNTIME_HASH__";

function fail(message, hint) {
  process.stderr.write(`flowrun: ${message}\n  hint: ${hint}\n`);
  process.exit(2);
}

function writable(dir) {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function runtimeBase() {
  const xdg = process.env.XDG_CACHE_HOME;
  const home = (() => {
    try {
      return homedir();
    } catch {
      return "";
    }
  })();
  const candidates = [xdg && isAbsolute(xdg) ? join(xdg, "flowrun", "runtime") : "", home ? join(home, ".cache", "flowrun", "runtime") : "", join(tmpdir(), `flowrun-${userInfo().uid}`, "runtime")];
  return candidates.find((dir) => dir && writable(dir)) ?? fail("no writable cache directory to unpack flowrun's runtime into", "set XDG_CACHE_HOME to a writable directory");
}

function unpack(dir) {
  const asset = Buffer.from(sea.getAsset("runtime.gz"));
  if (createHash("sha256").update(asset).digest("hex") !== RUNTIME_HASH) {
    fail(`${process.execPath} is damaged: its runtime does not match its hash`, "download or build the executable again (`make binary`)");
  }
  const archive = gunzipSync(asset);
  const headerLength = archive.readUInt32LE(0);
  const index = JSON.parse(archive.subarray(4, 4 + headerLength).toString("utf8"));
  const temp = `${dir}.${process.pid}.tmp`;
  rmSync(temp, { recursive: true, force: true });
  let offset = 4 + headerLength;
  for (const { path, mode, size } of index) {
    const file = join(temp, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, archive.subarray(offset, offset + size), { mode });
    chmodSync(file, mode);
    offset += size;
  }
  writeFileSync(join(temp, "binary-import.cjs"), "module.exports = (url) => import(url);\n");
  writeFileSync(join(temp, ".complete"), `${RUNTIME_HASH}\n`);
  try {
    renameSync(temp, dir);
  } catch (error) {
    // Another flowrun unpacked the same runtime first: theirs is as good.
    rmSync(temp, { recursive: true, force: true });
    if (!existsSync(join(dir, ".complete"))) throw error;
  }
}

if (process.argv[2] === "--version" && process.argv.length === 3) {
  process.stdout.write(`flowrun ${VERSION} (single executable, Node ${process.version})\n`);
} else {
  const dir = join(runtimeBase(), `${VERSION}-${RUNTIME_HASH.slice(0, 16)}`);
  if (!existsSync(join(dir, ".complete"))) unpack(dir);
  const importModule = createRequire(join(dir, "package.json"))("./binary-import.cjs");
  importModule(pathToFileURL(join(dir, "dist", "src", "cli", "main.js")).href).catch((error) => {
    process.stderr.write(`flowrun: cannot start: ${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  });
}
