/**
 * Content-addressed artifacts on top of a StorageBackend. An artifact is stored as one blob
 * named by the SHA-256 of its encoded bytes, or, above the backend's `maxBlobBytes` (S3:
 * CHUNK_BYTES, it wants parts anyway), as chunks of CHUNK_BYTES each named by its own hash.
 * Local datastores written before large blobs became files hold such chunks too; they
 * still read. Equal values produce equal refs and are stored once; a ref is all a task
 * record keeps.
 */
import { DatastoreError } from "../../src/core/errors.js";
import { blobHash } from "./blob-hash.js";
import { decodeArtifact, encodeArtifact } from "./artifact-codec.js";
import type { StorageBackend } from "./storage-backend.js";
import { writing } from "./write-failure.js";

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

export class ContentStore {
  /** Bytes fetched ahead of a step for backends that cannot read synchronously (S3). */
  private readonly prefetched = new Map<string, Uint8Array>();
  /** Artifact bytes read and written since the last `release()`. */
  bytesMoved = 0;

  constructor(readonly backend: StorageBackend) {}

  /**
   * Step code reads artifacts through synchronous getters. LMDB serves them directly; for
   * other backends the task downloads its inputs' bytes first (decoding stays lazy).
   */
  async prefetch(refs: Iterable<ArtifactRef>): Promise<void> {
    if (this.backend.syncReads) return;
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
    this.bytesMoved = 0;
  }

  async save(name: string, value: unknown): Promise<ArtifactRef> {
    const { encoding, bytes } = encodeArtifact(name, value);
    return this.saveEncoded(name, encoding, bytes);
  }

  /** The largest artifact stored as one blob; larger ones are stored as CHUNK_BYTES chunks. */
  private get blobLimit(): number {
    return this.backend.maxBlobBytes ?? CHUNK_BYTES;
  }

  private saveEncoded(name: string, encoding: string, bytes: Uint8Array): Promise<ArtifactRef> {
    this.bytesMoved += bytes.byteLength;
    return writing(`artifact '${name}'`, () => bytes.byteLength, async () => {
      if (bytes.byteLength <= this.blobLimit) {
        const hash = blobHash(bytes);
        await this.backend.putBlob(hash, bytes);
        return { hash, encoding, size: bytes.byteLength };
      }
      const chunks: string[] = [];
      for (let offset = 0; offset < bytes.byteLength; offset += CHUNK_BYTES) {
        const chunk = bytes.subarray(offset, offset + CHUNK_BYTES);
        const hash = blobHash(chunk);
        await this.backend.putBlob(hash, chunk);
        chunks.push(hash);
      }
      return { hash: blobHash(Buffer.from(`chunks:${chunks.join(",")}`)), encoding, size: bytes.byteLength, chunks };
    });
  }

  /**
   * `save` for each of many values (a foreach's elements), named `name[i]`: values that
   * encode to the same bytes are written once, and the writes go out together. 10,000
   * elements saved one by one cost ~80 ms per 1,000 in promise and GC overhead alone.
   */
  async saveEach(name: string, values: readonly unknown[]): Promise<ArtifactRef[]> {
    const refs: ArtifactRef[] = [];
    const blobs = new Map<string, Uint8Array>();
    const large: Array<Promise<void>> = [];
    for (let i = 0; i < values.length; i++) {
      const { encoding, bytes } = encodeArtifact(`${name}[${i}]`, values[i]);
      if (bytes.byteLength > this.blobLimit) {
        large.push(this.saveEncoded(`${name}[${i}]`, encoding, bytes).then((ref) => void (refs[i] = ref)));
        continue;
      }
      this.bytesMoved += bytes.byteLength;
      const hash = blobHash(bytes);
      blobs.set(hash, bytes);
      refs[i] = { hash, encoding, size: bytes.byteLength };
    }
    let total = 0;
    for (const bytes of blobs.values()) total += bytes.byteLength;
    await Promise.all([
      writing(`the ${values.length} elements of '${name}'`, () => total, () => Promise.all([...blobs].map(([hash, bytes]) => this.backend.putBlob(hash, bytes)))),
      ...large,
    ]);
    return refs;
  }

  async load(ref: ArtifactRef, what: string): Promise<unknown> {
    if (this.backend.syncReads) return this.loadSync(ref, what);
    const parts = await Promise.all((ref.chunks ?? [ref.hash]).map((hash) => this.backend.getBlob(hash)));
    return parts.length === 1 ? decodeArtifact(ref.encoding, parts[0] ?? missingBlob(ref.hash, what)) : this.assemble(ref, what, (i) => parts[i]);
  }

  /**
   * Synchronous read (LMDB directly; other backends from the task's prefetch) with exactly
   * one copy, straight into the artifact's own buffer, which the decoder then wraps: fresh
   * memory is what a large read costs (touching 100 MB of it took ~320 ms on the 2-core VM
   * the bench runs on, the copy itself ~15 ms), so it is touched once.
   */
  loadSync(ref: ArtifactRef, what: string): unknown {
    const sync = this.backend.syncReads;
    if (!sync) {
      const hashes = ref.chunks ?? [ref.hash];
      return this.assemble(ref, what, (i) => this.prefetched.get(hashes[i]!));
    }
    const out = new Uint8Array(ref.size);
    this.bytesMoved += ref.size;
    let offset = 0;
    for (const hash of ref.chunks ?? [ref.hash]) {
      let read: number | undefined;
      try {
        read = sync.readBlobInto(hash, out, offset);
      } catch (error) {
        throw damagedBlob(what, error);
      }
      offset += read ?? missingBlob(hash, what);
    }
    if (offset !== ref.size) throw damagedBlob(what, new DatastoreError(`its data is ${offset} bytes where ${ref.size} were written`));
    return decodeArtifact(ref.encoding, out, true);
  }

  /** Copies the parts (each read just before its copy) into one buffer. */
  private assemble(ref: ArtifactRef, what: string, part: (index: number) => Uint8Array | undefined): unknown {
    const hashes = ref.chunks ?? [ref.hash];
    const out = new Uint8Array(ref.size);
    this.bytesMoved += ref.size;
    let offset = 0;
    for (let i = 0; i < hashes.length; i++) {
      const bytes = part(i) ?? missingBlob(hashes[i]!, what);
      out.set(bytes, offset);
      offset += bytes.byteLength;
    }
    return decodeArtifact(ref.encoding, out, true);
  }
}

/** A read that found the blob but not its bytes as written, as one line naming the artifact. */
function damagedBlob(what: string, error: unknown): unknown {
  if (!(error instanceof DatastoreError)) return error;
  return new DatastoreError(`${what}: ${error.message}`, { hint: error.hint, cause: error });
}

/** A DatastoreError (exit 2), as a damaged blob is: the datastore lost what it had committed. */
function missingBlob(hash: string, what: string): never {
  throw new DatastoreError(`${what}: its data (blob ${hash.slice(0, 12)}) is missing from the datastore`, {
    hint: "the datastore was modified or partly deleted (`flowrun datastore verify` lists what else is missing); restore it from a backup, or re-run the step that produced it",
  });
}

