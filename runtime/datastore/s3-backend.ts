/**
 * The S3 storage backend: blobs under `<prefix>/blobs/<hash[0..2]>/<hash>`, records as JSON
 * objects under `<prefix>/records/<key>`.
 *
 * Safety of the commit protocol above rests on two S3 properties: a PUT (and a multipart
 * upload, at CompleteMultipartUpload) makes an object visible whole or not at all, and a
 * successful PUT is visible to every later read. `putRecords` therefore writes one record
 * after the other, so a batch's last record (the done-marker) appears only after the rest.
 *
 * The SDK (~2 MB of JS) is loaded with `import()` on open, so commands that never touch S3
 * do not pay for it. Credentials, region, profile and endpoint come from the standard AWS
 * chain, read by the SDK itself; only the region gets a default (us-east-1).
 */
import { createHash } from "node:crypto";
import { open, rm } from "node:fs/promises";
import type * as S3 from "@aws-sdk/client-s3";
import { DatastoreError } from "../../src/core/errors.js";
import { BlobCache } from "./blob-cache.js";
import { config as flowrunConfig } from "../../src/core/config.js";
import { hashFile, sourceError, spoolToFile, type FileBytes, type StoredFile } from "./file-digest.js";
import { encodeRecord } from "./record-json.js";
import { bodyFailure, notJsonRecord, parseS3Root, readS3Settings, retrying, toDatastoreError, type S3Root, type S3Settings } from "./s3-errors.js";
import type { StorageBackend } from "./storage-backend.js";
import { asWriteFailure } from "./write-failure.js";

/** Part size for multipart uploads and ranged downloads; also the multipart threshold. */
const PART_SIZE = 16 * 1024 * 1024;
/** Parts in flight per blob: 4 x 16 MiB keeps a fast link busy without a memory spike. */
const TRANSFER_CONCURRENCY = 4;
const RECORD_READ_CONCURRENCY = 16;
/** Records read ahead of a caller iterating: a few round trips overlap, a few values are held. */
const RECORD_STREAM_READ_AHEAD = 4;
/** A dead host fails in seconds; the cost is a spurious failure on a >3 s TCP handshake. */
const CONNECT_TIMEOUT_MS = 3_000;
/** No byte moving for this long aborts a request (a stalled server); not a total deadline. */
const IDLE_TIMEOUT_MS = 30_000;
/** Opening (HeadBucket, all retries included) gives up after this: a hung endpoint fails fast. */
const OPEN_DEADLINE_MS = 8_000;
/**
 * S3 exchanges in flight per backend; the rest wait here. Callers fan out freely (a foreach
 * saves 1,000 elements with one Promise.all), but the SDK's connection timeout starts when a
 * request is created, so a request queued behind the agent's 50 sockets for more than
 * CONNECT_TIMEOUT_MS failed as "no answer (timed out)" from a healthy, merely busy server.
 * Below the agent's limit, a request gets a socket as soon as it is sent.
 */
const MAX_IN_FLIGHT = 32;

export interface S3BackendOptions {
  /** Local blob cache directory. @default `config.blobCacheDir()` of src/core/config.ts */
  cacheDir?: string;
}

/**
 * Opens `s3://bucket/prefix` and checks the bucket (HeadBucket), so a bad configuration
 * fails before any task runs.
 * @throws DatastoreError naming the setting to fix (root, profile, credentials, endpoint, bucket).
 */
export async function openS3Backend(root: string, options: S3BackendOptions = {}): Promise<StorageBackend> {
  const parsed = parseS3Root(root);
  const settings = await readS3Settings();
  // The SDK prints a 9-line "upgrade to Node 22" notice on Node 20 in every process and
  // worker; flowrun supports Node 20. Users can set the variable to "false" to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const sdk = await import("@aws-sdk/client-s3");
  const config: S3.S3ClientConfig = {
    // S3-compatible servers (MinIO, s3rver, Ceph) are reached by path; AWS by virtual host.
    forcePathStyle: settings.endpoint !== undefined,
    followRegionRedirects: true,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: IDLE_TIMEOUT_MS, throwOnRequestTimeout: true },
  };
  let client = new sdk.S3Client(config);
  let region: string;
  try {
    region = await client.config.region();
  } catch {
    client.destroy();
    region = "us-east-1";
    client = new sdk.S3Client({ ...config, region });
  }
  const backend = new S3Backend(sdk, client, parsed, settings, region, new BlobCache(options.cacheDir ?? flowrunConfig.blobCacheDir()));
  try {
    const abortSignal = AbortSignal.timeout(OPEN_DEADLINE_MS);
    await backend.call("HeadBucket", undefined, () => client.send(new sdk.HeadBucketCommand({ Bucket: parsed.bucket }), { abortSignal }));
  } catch (error) {
    client.destroy();
    throw error;
  }
  return backend;
}

/** `readRecord`'s answer for a record that does not exist (null is a valid record value). */
const MISSING = Symbol("missing");

class S3Backend implements StorageBackend {
  readonly kind = "s3";
  readonly location: string;

  constructor(
    private readonly sdk: typeof S3,
    private readonly client: S3.S3Client,
    private readonly root: S3Root,
    private readonly settings: S3Settings,
    private readonly region: string,
    private readonly cache: BlobCache,
  ) {
    this.location = root.location;
  }

  private blobKey(hash: string): string {
    if (!/^[A-Za-z0-9_-]{3,}$/.test(hash)) throw new DatastoreError(`invalid blob hash ${JSON.stringify(hash)}`);
    return `${this.root.prefix}blobs/${hash.slice(0, 2)}/${hash}`;
  }

  private recordKey(key: string): string {
    return `${this.root.prefix}records/${key}`;
  }

  private readonly slots = new Slots(MAX_IN_FLIGHT);

  /** One S3 exchange (request and body) with `retrying`; failures become DatastoreErrors. */
  async call<T>(operation: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    await this.slots.acquire();
    try {
      return await retrying(fn);
    } catch (error) {
      throw toDatastoreError(error, { root: this.root, settings: this.settings, region: this.region, operation, key });
    } finally {
      this.slots.release();
    }
  }

  /** `call`, answering undefined when the object does not exist (never for a missing bucket). */
  private async callOrMissing<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(operation, key, fn);
    } catch (error) {
      const cause = (error as Error).cause as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
      if (cause?.name !== "NoSuchBucket" && (cause?.name === "NoSuchKey" || cause?.$metadata?.httpStatusCode === 404)) {
        return undefined;
      }
      throw error;
    }
  }

  async hasBlob(hash: string): Promise<boolean> {
    const key = this.blobKey(hash);
    const head = await this.callOrMissing("HeadObject", key, () =>
      this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.root.bucket, Key: key })),
    );
    return head !== undefined;
  }

  async putBlob(hash: string, bytes: Uint8Array): Promise<void> {
    try {
      // A HEAD costs one round trip; re-uploading an unchanged 1 GB artifact costs far more.
      if (!(await this.hasBlob(hash))) {
        const key = this.blobKey(hash);
        if (bytes.length > PART_SIZE) await this.putMultipart(key, bytes.length, async (start, end) => bytes.subarray(start, end));
        else await this.call("PutObject", key, () => this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.root.bucket, Key: key, Body: bytes })));
      }
    } catch (error) {
      throw asWriteFailure(error);
    }
    // Write-through: the next step on this machine usually reads what this one wrote.
    if (!(await this.cache.has(hash))) await this.cache.put(hash, bytes);
  }

  /**
   * A streamed file (`current.files`): hashed first (a stream is spooled to the local cache
   * on the way), so bytes the bucket has already cost one HEAD and no upload; then uploaded
   * in parts read from the local file, TRANSFER_CONCURRENCY x PART_SIZE in memory at most.
   */
  async putFile(source: FileBytes): Promise<StoredFile> {
    let spool: string | undefined;
    try {
      let stored: StoredFile;
      if ("path" in source) {
        stored = await hashFile(source.path);
      } else {
        spool = await this.cache.tempFile();
        stored = await spoolToFile(source.stream, spool);
      }
      const path = spool ?? (source as { path: string }).path;
      if (!(await this.hasBlob(stored.hash))) await this.uploadFile(this.blobKey(stored.hash), path, stored);
      // Write-through, as for blobs: the next step on this machine reads it from here.
      if (spool && (await this.cache.adopt(spool, stored.hash))) spool = undefined;
      return stored;
    } catch (error) {
      throw sourceError(error)?.error ?? asWriteFailure(error);
    } finally {
      if (spool) await rm(spool, { force: true });
    }
  }

  /**
   * Uploads a local file's bytes as `key`, hashing the parts as they are read (in order):
   * a file changed since it was hashed is refused before the upload completes.
   */
  private async uploadFile(key: string, path: string, expected: StoredFile): Promise<void> {
    const file = await open(path, "r");
    try {
      const digest = createHash("sha256");
      const reads = new Slots(1); // FIFO: parts are read, and hashed, in order
      // A part's buffer is reused once it is uploaded: a new one per part would leave GBs of garbage outside V8's heap.
      const free: Buffer[] = [];
      const readPart = async (start: number, end: number): Promise<Uint8Array> => {
        await reads.acquire();
        try {
          // Parts are read in order, all of one size but the last: a freed buffer always fits.
          const buffer = free.pop() ?? Buffer.allocUnsafeSlow(end - start);
          const part = buffer.subarray(0, end - start);
          for (let at = 0; at < part.length; ) {
            const { bytesRead } = await file.read(part, at, part.length - at, start + at);
            if (bytesRead === 0) break;
            at += bytesRead;
          }
          digest.update(part);
          return part;
        } finally {
          reads.release();
        }
      };
      const unchanged = () => {
        if (digest.digest("hex") !== expected.hash) throw new DatastoreError(`${path} changed while it was uploaded`, { hint: "put a file nothing else writes to, or put a copy of it" });
      };
      const uploaded = (part: Uint8Array) => free.push(Buffer.from(part.buffer));
      if (expected.size > PART_SIZE) return await this.putMultipart(key, expected.size, readPart, unchanged, uploaded);
      const Body = await readPart(0, expected.size);
      unchanged();
      await this.call("PutObject", key, () => this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.root.bucket, Key: key, Body })));
    } finally {
      await file.close();
    }
  }

  async localFile(hash: string, size: number): Promise<string | undefined> {
    const key = this.blobKey(hash);
    return this.cache.fileOnce(hash, size, async (temp) => {
      const head = await this.callOrMissing("HeadObject", key, () => this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.root.bucket, Key: key })));
      if (!head || head.ContentLength !== size) return false;
      await this.downloadFile(key, size, temp);
      if ((await hashFile(temp)).hash !== hash) {
        throw new DatastoreError(`${this.location}/blobs/${hash.slice(0, 2)}/${hash} is damaged: its bytes do not match their hash`, {
          hint: "restore the object from a backup or a bucket version, or re-run the step that put it",
        });
      }
      return true;
    });
  }

  /** Ranged GETs of PART_SIZE, TRANSFER_CONCURRENCY at a time, each written to the file at its offset as it arrives. */
  private async downloadFile(key: string, size: number, target: string): Promise<void> {
    const file = await open(target, "w");
    try {
      const Bucket = this.root.bucket;
      await inParallel(Math.ceil(size / PART_SIZE), TRANSFER_CONCURRENCY, (i) =>
        this.call("GetObject", key, async () => {
          const start = i * PART_SIZE;
          const end = Math.min(size, start + PART_SIZE);
          const response = await this.client.send(new this.sdk.GetObjectCommand({ Bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
          let at = start;
          try {
            for await (const chunk of response.Body as AsyncIterable<Uint8Array>) {
              if (at + chunk.length > end) throw new Error(`S3 sent more than the ${end - start} bytes asked for`);
              await file.write(chunk, 0, chunk.length, at);
              at += chunk.length;
            }
            if (at !== end) throw new Error(`S3 sent ${at - start} of ${end - start} bytes`);
          } catch (error) {
            throw bodyFailure(error);
          }
        }),
      );
    } finally {
      await file.close();
    }
  }

  /**
   * Parts come from `readPart` (views of a buffer, or reads of a file). On any failure the
   * upload is aborted; if even that fails (endpoint gone), the parts stay invisible until a
   * lifecycle rule (AbortIncompleteMultipartUpload) removes them: no reader ever sees a
   * partial blob. `beforeComplete` may still refuse the upload; `uploaded` gets each part
   * back once it is sent.
   */
  private async putMultipart(
    key: string,
    size: number,
    readPart: (start: number, end: number) => Promise<Uint8Array>,
    beforeComplete?: () => void,
    uploaded?: (part: Uint8Array) => void,
  ): Promise<void> {
    const { sdk, client } = this;
    const Bucket = this.root.bucket;
    // With checksums on (the SDK default), real S3 wants the algorithm declared at creation
    // and every part's checksum repeated at completion; WHEN_REQUIRED sends none.
    const checksum = (await client.config.requestChecksumCalculation()) === "WHEN_SUPPORTED" ? "CRC32" : undefined;
    const created = await this.call("CreateMultipartUpload", key, () =>
      client.send(new sdk.CreateMultipartUploadCommand({ Bucket, Key: key, ChecksumAlgorithm: checksum })),
    );
    const UploadId = created.UploadId!;
    const partSize = Math.max(PART_SIZE, Math.ceil(size / 10_000)); // S3 allows 10,000 parts
    try {
      const parts = await inParallel(Math.ceil(size / partSize), TRANSFER_CONCURRENCY, async (i) => {
        const Body = await readPart(i * partSize, Math.min(size, (i + 1) * partSize));
        const part = await this.call("UploadPart", key, () =>
          client.send(new sdk.UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: checksum })),
        );
        uploaded?.(Body);
        const { ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 } = part;
        return { PartNumber: i + 1, ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 };
      });
      beforeComplete?.();
      await this.call("CompleteMultipartUpload", key, () =>
        client.send(new sdk.CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } })),
      );
    } catch (error) {
      await client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key: key, UploadId })).catch(() => {});
      throw error;
    }
  }

  async getBlob(hash: string): Promise<Uint8Array | undefined> {
    const cached = await this.cache.get(hash);
    if (cached) return cached;
    const bytes = await this.download(this.blobKey(hash));
    if (bytes) await this.cache.put(hash, bytes);
    return bytes;
  }

  /**
   * The first ranged GET tells the size; the rest of the ranges are fetched in parallel,
   * each streamed straight into one preallocated buffer (peak memory = the blob + the
   * sockets' buffers, no per-part copies or final concatenation).
   */
  private async download(key: string): Promise<Buffer | undefined> {
    const Bucket = this.root.bucket;
    const get = (Range?: string) => this.client.send(new this.sdk.GetObjectCommand({ Bucket, Key: key, Range }));
    const first = await this.callOrMissing("GetObject", key, async () => {
      // Real S3 answers 416 to a range on an empty object: ask again without one.
      const response = await get(`bytes=0-${PART_SIZE - 1}`).catch((e) => (e?.$metadata?.httpStatusCode === 416 ? get() : Promise.reject(e)));
      const total = Number(/\/(\d+)$/.exec(response.ContentRange ?? "")?.[1] ?? response.ContentLength ?? 0);
      const target = Buffer.allocUnsafe(total);
      const length = Math.min(total, Number(response.ContentLength ?? total));
      // Nothing to read for an empty object (s3rver even announces a 1-byte body it never sends).
      if (total === 0) (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      else await readInto(response.Body, target, 0, length);
      return { target, total, received: total === 0 ? 0 : length };
    });
    if (!first) return undefined;
    const { target, total, received } = first;
    const offsets: number[] = [];
    for (let start = received; start < total; start += PART_SIZE) offsets.push(start);
    await inParallel(offsets.length, TRANSFER_CONCURRENCY, (i) =>
      this.call("GetObject", key, async () => {
        const start = offsets[i]!;
        const end = Math.min(total, start + PART_SIZE);
        await readInto((await get(`bytes=${start}-${end - 1}`)).Body, target, start, end - start);
      }),
    );
    return target;
  }

  async putRecords(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> {
    // Encode everything first: a value that cannot be stored fails the batch before any write.
    const bodies = records.map(({ key, value }) => ({ key: this.recordKey(key), body: encodeRecord(key, value) }));
    try {
      for (const { key, body } of bodies) {
        await this.call("PutObject", key, () =>
          this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.root.bucket, Key: key, Body: body, ContentType: "application/json" })),
        );
      }
    } catch (error) {
      throw asWriteFailure(error);
    }
  }

  async getRecord<T = unknown>(key: string): Promise<T | undefined> {
    const value = await this.readRecord(this.recordKey(key));
    return value === MISSING ? undefined : (value as T);
  }

  getRecords<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>> {
    return Promise.all(keys.map((key) => this.getRecord<T>(key)));
  }

  private async readRecord(key: string): Promise<unknown> {
    const record = await this.callOrMissing("GetObject", key, async () => {
      const response = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.root.bucket, Key: key }));
      const target = Buffer.allocUnsafe(response.ContentLength ?? 0);
      await readInto(response.Body, target, 0, target.length);
      try {
        // Wrapped: null is a valid record value, and undefined means "missing".
        return { value: JSON.parse(target.toString("utf8")) as unknown };
      } catch (error) {
        throw notJsonRecord(error);
      }
    });
    return record === undefined ? MISSING : record.value;
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of this.keyPages(prefix)) keys.push(...page);
    // S3 lists in UTF-8 byte order; callers get JS string order, the same as every backend.
    return keys.sort();
  }

  /** Record keys under `prefix`, one listing page (up to 1,000 keys) at a time, in S3's order. */
  private async *keyPages(prefix: string): AsyncGenerator<string[]> {
    const base = this.recordKey("");
    let ContinuationToken: string | undefined;
    do {
      const page = await this.call("ListObjectsV2", base + prefix, () =>
        this.client.send(new this.sdk.ListObjectsV2Command({ Bucket: this.root.bucket, Prefix: base + prefix, ContinuationToken })),
      );
      yield (page.Contents ?? []).map((object) => object.Key!.slice(base.length));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /**
   * Lists a page at a time and keeps RECORD_STREAM_READ_AHEAD reads in flight ahead of the
   * caller: a round trip per record would otherwise make a long log crawl, and reading a
   * whole page ahead would hold up to 1,000 values.
   */
  async *iterateRecords<T = unknown>(prefix: string): AsyncGenerator<{ key: string; value: T }> {
    const ahead: Array<{ key: string; value: Promise<unknown> }> = [];
    const next = async function* () {
      const { key, value } = ahead.shift()!;
      const read = await value;
      // A record deleted between the listing and its read is simply not listed.
      if (read !== MISSING) yield { key, value: read as T };
    };
    for await (const page of this.keyPages(prefix)) {
      for (const key of page) {
        const value = this.readRecord(this.recordKey(key));
        // Handled when its turn comes; until then (or if the caller stops early) not "unhandled".
        value.catch(() => {});
        ahead.push({ key, value });
        if (ahead.length >= RECORD_STREAM_READ_AHEAD) yield* next();
      }
    }
    while (ahead.length > 0) yield* next();
  }

  async listRecords<T = unknown>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    const keys = await this.listKeys(prefix);
    const values = await inParallel(keys.length, RECORD_READ_CONCURRENCY, (i) => this.readRecord(this.recordKey(keys[i]!)));
    // A record deleted between the listing and its read is simply not listed.
    return keys.flatMap((key, i) => (values[i] === MISSING ? [] : [{ key, value: values[i] as T }]));
  }

  async deleteRecord(key: string): Promise<void> {
    const Key = this.recordKey(key);
    await this.call("DeleteObject", Key, () => this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.root.bucket, Key })));
  }

  /** S3 has no transactions: the new record first, so a reader never sees neither. */
  async replaceRecord(oldKey: string, record: { key: string; value: unknown }): Promise<void> {
    await this.putRecords([record]);
    if (oldKey !== record.key) await this.deleteRecord(oldKey);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/**
 * Streams a response body of exactly `length` bytes into `target` at `offset`. Stream
 * failures and wrong lengths are marked so `retrying` repeats the whole request.
 */
async function readInto(body: unknown, target: Buffer, offset: number, length: number): Promise<void> {
  let position = offset;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (position + chunk.length > offset + length) throw new Error(`S3 sent more than the ${length} bytes asked for`);
      target.set(chunk, position);
      position += chunk.length;
    }
    if (position !== offset + length) throw new Error(`S3 sent ${position - offset} of ${length} bytes`);
  } catch (error) {
    throw bodyFailure(error);
  }
}

/** A counting semaphore: at most `limit` holders, the others wait in arrival order. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.free = limit;
  }

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** Runs `fn(0..count-1)` with at most `limit` in flight; after a failure starts no more, then throws it. */
async function inParallel<T>(count: number, limit: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < count) {
      const index = next++;
      try {
        results[index] = await fn(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  if (failure) throw failure.error;
  return results;
}
