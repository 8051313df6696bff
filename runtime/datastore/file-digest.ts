/**
 * Hashing files as they stream, for `current.files`: a file is named by the SHA-256 of its
 * bytes, computed while they are copied, in chunks, so no file is ever whole in memory.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import * as zlib from "node:zlib";

/** Read size when streaming a local file: large enough that per-chunk costs vanish, small enough to stay in cache. */
export const FILE_CHUNK_BYTES = 1024 * 1024;

/** zlib.crc32 is in Node from 20.15 and 22.2. */
export const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** Where a stored file's bytes come from: a local file, or a stream read once. */
export type FileBytes = { path: string } | { stream: AsyncIterable<Uint8Array | string> };

export interface StoredFile {
  /** SHA-256 of the bytes, in hex. */
  hash: string;
  size: number;
}

/** A local file's bytes as a stream of fresh chunks, for code that may keep them. */
export function readFileChunks(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES });
}

/**
 * A local file's bytes read into one buffer, reused: each piece is valid only until the
 * next is asked for, so only callers that consume a piece at once (hash it, write it) use
 * this. A fresh buffer per chunk would leave each thread that reads a 2 GB file ~60 MB of
 * garbage outside V8's heap, which V8 collects only past its external-memory limit.
 */
export async function* filePieces(path: string): AsyncGenerator<Buffer> {
  const file = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafeSlow(FILE_CHUNK_BYTES);
    for (let position = 0; ; ) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

/**
 * A failure of the bytes' source (the step's stream, the file being read), not of the
 * datastore: the backend passes the source's own error on (`sourceError`) instead of
 * reporting a datastore that cannot be written.
 */
class SourceFailure extends Error {
  constructor(readonly error: unknown) {
    super("the source of a file failed", { cause: error });
  }
}

/** The source's own error if `error` (or one of its causes) is a source failure. */
export function sourceError(error: unknown): { error: unknown } | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) if (e instanceof SourceFailure) return { error: e.error };
  return undefined;
}

/** Chunks as bytes (a stream in string mode gives strings, written as UTF-8), its failures marked as the source's. */
export async function* asBytes(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of chunks) yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  } catch (error) {
    throw new SourceFailure(error);
  }
}

/** The SHA-256 and size of a local file, read in chunks. */
export async function hashFile(path: string): Promise<StoredFile> {
  const digest = createHash("sha256");
  let size = 0;
  for await (const chunk of filePieces(path)) {
    digest.update(chunk);
    size += chunk.byteLength;
  }
  return { hash: digest.digest("hex"), size };
}

/** Writes a stream to a new file at `path`, hashing it on the way: a stream can be read only once. */
export async function spoolToFile(chunks: AsyncIterable<Uint8Array | string>, path: string): Promise<StoredFile> {
  const digest = createHash("sha256");
  let size = 0;
  const file = await open(path, "wx");
  try {
    for await (const chunk of asBytes(chunks)) {
      digest.update(chunk);
      for (let at = 0; at < chunk.byteLength; ) at += (await file.write(chunk, at, chunk.byteLength - at, size + at)).bytesWritten;
      size += chunk.byteLength;
    }
  } finally {
    await file.close();
  }
  return { hash: digest.digest("hex"), size };
}
