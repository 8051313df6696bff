#!/usr/bin/env node
// `make binary`: dist/flowrun-linux-x64, one executable with Node, flowrun and every
// dependency, built as a Node single executable application (SEA): a copy of this machine's
// `node` with a blob injected by postject (Node's own supported route; no third-party
// runtime, and the binary is exactly the Node flowrun is tested on).
//
// A SEA runs one CommonJS script and loads nothing from inside itself but its assets, so the
// runtime (dist/, package.json, the production node_modules: lmdb's native addon and
// esbuild's binary among them) travels as one gzip'd asset. The launcher
// (scripts/binary-launcher.cjs) unpacks it at first start into a cache directory named by
// flowrun's version and the asset's hash, checks the hash, and imports the CLI from there; a
// later start finds the directory complete and unpacks nothing.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, "dist", "binary");
const target = join(root, "dist", `flowrun-${process.platform}-${process.arch}`);
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() || (entry.isSymbolicLink() && statSync(path).isFile()) ? [path] : [];
  });
}

// The production dependency closure, as npm resolved it here (lmdb with its patched addon).
const packages = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: root, encoding: "utf8" })
  .split("\n")
  .filter((dir) => dir && dir !== root.replace(/\/$/, ""));
const files = [join(root, "package.json"), ...filesUnder(join(root, "dist", "src")), ...filesUnder(join(root, "dist", "runtime")), ...packages.flatMap(filesUnder)];

// The archive: a 4-byte length, a JSON index ({ path, mode, size } in order), then the bytes.
const index = [];
const bodies = [];
for (const file of [...new Set(files)]) {
  const bytes = readFileSync(file);
  index.push({ path: relative(root, file), mode: lstatSync(file).mode & 0o777, size: bytes.length });
  bodies.push(bytes);
}
const header = Buffer.from(JSON.stringify(index));
const length = Buffer.alloc(4);
length.writeUInt32LE(header.length);
const archive = gzipSync(Buffer.concat([length, header, ...bodies]), { level: 6 });
const hash = createHash("sha256").update(archive).digest("hex");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "runtime.gz"), archive);
const launcher = readFileSync(join(root, "scripts", "binary-launcher.cjs"), "utf8")
  .replace('"__FLOWRUN_VERSION__"', JSON.stringify(version))
  .replace('"__RUNTIME_HASH__"', JSON.stringify(hash));
writeFileSync(join(out, "main.cjs"), launcher);
writeFileSync(
  join(out, "sea-config.json"),
  JSON.stringify({ main: join(out, "main.cjs"), output: join(out, "sea-prep.blob"), disableExperimentalSEAWarning: true, assets: { "runtime.gz": join(out, "runtime.gz") } }),
);
execFileSync(process.execPath, ["--experimental-sea-config", join(out, "sea-config.json")], { stdio: "inherit" });
copyFileSync(process.execPath, target);
chmodSync(target, 0o755);
execFileSync(
  join(root, "node_modules", ".bin", "postject"),
  [target, "NODE_SEA_BLOB", join(out, "sea-prep.blob"), "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"],
  { stdio: ["ignore", "ignore", "inherit"] },
);
rmSync(out, { recursive: true, force: true });
const mb = (n) => `${(n / 1024 / 1024).toFixed(0)} MB`;
console.log(`${relative(root, target)}: ${mb(statSync(target).size)} (Node ${process.version} + ${index.length} runtime files, ${mb(archive.length)} compressed)`);
