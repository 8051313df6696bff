/**
 * A real S3-compatible server for tests: s3rver in a child process, so a test can kill it
 * mid-operation and see what a client sees when the network goes away.
 *
 * Request counting is done inside the server process: every HTTP request is reported over
 * the IPC channel when it arrives, before s3rver answers it. A client that has seen a
 * response has therefore already caused its report to be sent, and `requests()` first
 * round-trips a flush message on the same (ordered) channel, so counts are exact, not
 * timing-dependent.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface S3Request {
  method: string;
  /** Path without the query string, e.g. `/bucket/prefix/blobs/ab/abcd`. */
  path: string;
  /** The query string parameters (`uploadId`, `partNumber`, `list-type`, ...). */
  query: URLSearchParams;
}

export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps its data; pass it to another `startS3Server` to restart on it. */
  directory: string;
  /** Everything a client process needs to reach this server through the standard AWS chain. */
  env: Record<string, string>;
  /** Every request the server has received so far, in arrival order. */
  requests(): Promise<S3Request[]>;
  /** PutObject and CompleteMultipartUpload requests: the writes that make an object visible. */
  objectWrites(pathPart?: string): Promise<number>;
  /** GetObject requests (ranged or not) whose path contains `pathPart`. */
  objectReads(pathPart?: string): Promise<number>;
  /**
   * Kills the server (SIGKILL: like a crash, open connections are reset) and deletes its
   * directory unless it was passed in or `keepDirectory` is set.
   */
  stop(options?: { keepDirectory?: boolean }): Promise<void>;
}

export interface StartS3ServerOptions {
  bucket?: string;
  /** Reuse the data of an earlier server; it is then not deleted by `stop()`. */
  directory?: string;
  /**
   * Object bytes the server accepts in all (PUT and POST bodies, by Content-Length); past
   * that it answers every write 507 XMinioStorageFull, as MinIO does when its disk is full.
   * (s3rver itself, on a full disk, acknowledges the write and then crashes.)
   */
  storageLimitBytes?: number;
}

// Runs in the child (CommonJS, plain JS: no tsx start-up cost). configureBuckets keeps the
// bucket's content when it already exists, which is what makes restarting on a directory work.
// "request" fires on arrival, before s3rver's handler answers: see the flush note above.
const CHILD = `
const S3rver = require(process.env.S3RVER_MAIN);
const server = new S3rver({
  address: "127.0.0.1", port: 0, silent: true, directory: process.env.S3RVER_DIR,
  configureBuckets: [{ name: process.env.S3RVER_BUCKET, configs: [] }],
});
process.on("message", (m) => process.send({ flushed: m.flush }));
process.on("disconnect", () => process.exit(0)); // the test process died: do not linger
const limit = Number(process.env.S3RVER_STORAGE_LIMIT || Infinity);
let stored = 0;
server.run().then(({ port }) => {
  const [handle] = server.httpServer.listeners("request");
  server.httpServer.removeAllListeners("request");
  server.httpServer.on("request", (req, res) => {
    const size = req.method === "PUT" || req.method === "POST" ? Number(req.headers["content-length"] || 0) : 0;
    if (stored + size > limit) {
      req.resume();
      res.writeHead(507, { "content-type": "application/xml" });
      return res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>XMinioStorageFull</Code>' +
        "<Message>Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.</Message></Error>");
    }
    stored += size;
    handle.call(server.httpServer, req, res);
  });
  server.httpServer.prependListener("request", (req) => process.send({ m: req.method, u: req.url }));
  process.send({ ready: port });
}, (err) => { console.error(err); process.exit(1); });
`;

export async function startS3Server(options: StartS3ServerOptions = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? "flowrun-test";
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), "flowrun-s3rver-"));
  const child = spawn(process.execPath, ["-e", CHILD], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: {
      PATH: process.env.PATH ?? "",
      // Without it, ListObjectsV2 beyond the first page answers 500 (s3rver + OpenSSL 3).
      NODE_OPTIONS: "--openssl-legacy-provider",
      S3RVER_MAIN: createRequire(import.meta.url).resolve("s3rver"),
      S3RVER_DIR: directory,
      S3RVER_BUCKET: bucket,
      S3RVER_STORAGE_LIMIT: options.storageLimitBytes === undefined ? "" : String(options.storageLimitBytes),
    },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));

  const log: Array<{ m: string; u: string }> = [];
  const flushes = new Map<number, () => void>();
  let nextFlush = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.on("message", (msg: { ready?: number; flushed?: number; m?: string; u?: string }) => {
      if (msg.ready !== undefined) resolve(msg.ready);
      else if (msg.flushed !== undefined) flushes.get(msg.flushed)?.();
      else log.push({ m: msg.m!, u: msg.u! });
    });
    child.on("exit", (code) => reject(new Error(`s3rver exited with ${code} before listening: ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;

  async function requests(): Promise<S3Request[]> {
    if (child.exitCode === null && child.signalCode === null && child.connected) {
      const id = nextFlush++;
      await new Promise<void>((resolve) => {
        flushes.set(id, resolve);
        child.send({ flush: id });
      });
      flushes.delete(id);
    }
    return log.map(({ m, u }) => {
      const url = new URL(u, endpoint);
      return { method: m, path: decodeURIComponent(url.pathname), query: url.searchParams };
    });
  }

  return {
    endpoint,
    bucket,
    directory,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
      // s3rver stores aws-chunked (trailing checksum) bodies verbatim: corrupted objects.
      AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
      AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    },
    requests,
    async objectWrites(pathPart = "") {
      return (await requests()).filter(
        (r) =>
          r.path.includes(pathPart) &&
          ((r.method === "PUT" && !r.query.has("uploadId")) || (r.method === "POST" && r.query.has("uploadId"))),
      ).length;
    },
    async objectReads(pathPart = "") {
      return (await requests()).filter((r) => r.method === "GET" && !r.query.has("list-type") && r.path.includes(pathPart))
        .length;
    },
    async stop({ keepDirectory = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
      if (ownsDirectory && !keepDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
