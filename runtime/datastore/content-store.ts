/**
 * Content-addressed artifacts on top of a StorageBackend. An artifact is stored as one blob
 * named by the SHA-256 of its encoded bytes (or, above CHUNK_BYTES, as chunks each named by
 * its own hash: LMDB cannot hold a value over 2 GiB and S3 wants parts anyway). Equal values
 * produce equal refs and are stored once; a ref is all a task record keeps.
 */
import { createHash } from "node:crypto";
import { ArtifactError } from "../../src/errors.js";
import { decodeArtifact, encodeArtifact } from "./artifact-codec.js";
import type { StorageBackend } from "./storage-backend.js";

export const CHUNK_BYTES = 64 * 1024 * 1024;

export interface ArtifactRef {
  /** Identity of the content: equal values, equal hashes. */
  hash: string;
  /** How the bytes decode (`msgpack`, `raw:Float64Array`, ...). */
  encoding: string;
  size: number;
  /** Present when the bytes are split; each is a blob hash, in order. */
  chunks?: string[];
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Backends that can read without awaiting (LMDB) let artifact getters stay synchronous. */
interface SyncReadable {
  getBlobSync(hash: string): Uint8Array | undefined;
  /** A view valid only until the next read: copied at once into the artifact's own buffer. */
  readBlobTransient?(hash: string): Uint8Array | undefined;
}

export class ContentStore {
  /** Bytes fetched ahead of a step for backends that cannot read synchronously (S3). */
  private readonly prefetched = new Map<string, Uint8Array>();

  constructor(readonly backend: StorageBackend) {}

  /**
   * Step code reads artifacts through synchronous getters. LMDB serves them directly; for
   * other backends the task downloads its inputs' bytes first (decoding stays lazy).
   */
  async prefetch(refs: Iterable<ArtifactRef>): Promise<void> {
    if (typeof (this.backend as Partial<SyncReadable>).getBlobSync === "function") return;
    const hashes = new Set<string>();
    for (const ref of refs) for (const hash of ref.chunks ?? [ref.hash]) if (!this.prefetched.has(hash)) hashes.add(hash);
    await Promise.all(
      [...hashes].map(async (hash) => {
        const bytes = await this.backend.getBlob(hash);
        if (bytes) this.prefetched.set(hash, bytes);
      }),
    );
  }

  /** Drops prefetched bytes once the task is done. */
  release(): void {
    this.prefetched.clear();
  }

  async save(name: string, value: unknown): Promise<ArtifactRef> {
    const { encoding, bytes } = encodeArtifact(name, value);
    if (bytes.byteLength <= CHUNK_BYTES) {
      const hash = sha256(bytes);
      await this.backend.putBlob(hash, bytes);
      return { hash, encoding, size: bytes.byteLength };
    }
    const chunks: string[] = [];
    for (let offset = 0; offset < bytes.byteLength; offset += CHUNK_BYTES) {
      const chunk = bytes.subarray(offset, offset + CHUNK_BYTES);
      const hash = sha256(chunk);
      await this.backend.putBlob(hash, chunk);
      chunks.push(hash);
    }
    return { hash: sha256(Buffer.from(`chunks:${chunks.join(",")}`)), encoding, size: bytes.byteLength, chunks };
  }

  async load(ref: ArtifactRef, what: string): Promise<unknown> {
    if ((this.backend as Partial<SyncReadable>).readBlobTransient) return this.loadSync(ref, what);
    const parts = await Promise.all((ref.chunks ?? [ref.hash]).map((hash) => this.backend.getBlob(hash)));
    return decodeArtifact(ref.encoding, this.join(parts, ref, what));
  }

  loadSync(ref: ArtifactRef, what: string): unknown {
    const backend = this.backend as Partial<SyncReadable>;
    if (backend.readBlobTransient) {
      // One copy, straight into the artifact's own aligned buffer (a 100 MB read in fresh
      // memory costs ~150 ms per copy here; the generic path makes three).
      const out = new Uint8Array(ref.size);
      let offset = 0;
      for (const hash of ref.chunks ?? [ref.hash]) {
        const view = backend.readBlobTransient(hash);
        if (!view) this.join([undefined], ref, what);
        out.set(view!, offset);
        offset += view!.byteLength;
      }
      return decodeArtifact(ref.encoding, out, true);
    }
    const read = backend.getBlobSync ? (hash: string) => backend.getBlobSync!(hash) : (hash: string) => this.prefetched.get(hash);
    const parts = (ref.chunks ?? [ref.hash]).map(read);
    return decodeArtifact(ref.encoding, this.join(parts, ref, what));
  }

  private join(parts: Array<Uint8Array | undefined>, ref: ArtifactRef, what: string): Uint8Array {
    if (parts.some((p) => p === undefined)) {
      throw new ArtifactError(`${what}: its data (blob ${ref.hash.slice(0, 12)}) is missing from the datastore`, {
        hint: "the datastore was modified or partly deleted; re-run the step that produced it",
      });
    }
    if (parts.length === 1) return parts[0]!;
    const out = Buffer.allocUnsafe(ref.size);
    let offset = 0;
    for (const part of parts as Uint8Array[]) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }
}
