/**
 * `current.files` and the client's `task.file(ref)`: files put into and read from a
 * datastore by content (the backend's putFile and localFile), with the refs checked and the
 * failures a user can cause named in one line.
 */
import { basename } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { statSync } from "node:fs";
import { ArtifactError, DatastoreError } from "../../src/core/errors.js";
import { isFileRef, type FileRef, type FileSource, type PutFileOptions, type TaskFiles } from "../../src/core/flow/files.js";
import { readFileChunks, type FileBytes } from "./file-digest.js";
import type { StorageBackend } from "./storage-backend.js";

export class FileStore implements TaskFiles {
  constructor(private readonly backend: StorageBackend) {}

  async put(source: FileSource, options: PutFileOptions = {}): Promise<FileRef> {
    const bytes = fileBytes(source);
    const name = options.name ?? ("path" in bytes ? basename(bytes.path) : "file");
    const stored = await this.backend.putFile(bytes);
    return { name, size: stored.size, hash: stored.hash };
  }

  async path(ref: FileRef): Promise<string> {
    checkRef(ref);
    const path = await this.backend.localFile(ref.hash, ref.size);
    if (path === undefined) {
      throw new DatastoreError(`file '${ref.name}' (sha256 ${ref.hash.slice(0, 12)}, ${ref.size} bytes) is not in the datastore ${this.backend.location}`, {
        hint: "a FileRef is read from the datastore its file was put in: run against that datastore (--datastore-root), or put the file again",
      });
    }
    return path;
  }

  open(ref: FileRef): Readable {
    const path = () => this.path(ref);
    return Readable.from(
      (async function* () {
        yield* readFileChunks(await path());
      })(),
      { objectMode: false },
    );
  }
}

/** What `put` was given, as a local path or a stream; a path must name a readable regular file. */
function fileBytes(source: FileSource): FileBytes {
  if (typeof source === "string" || source instanceof URL) {
    const path = source instanceof URL ? fileURLToPath(source) : source;
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat?.isFile()) {
      throw new ArtifactError(`current.files.put: ${path} ${stat ? "is not a file" : "does not exist"}`, {
        hint: "pass the path of a file, or a stream of its bytes",
      });
    }
    return { path };
  }
  if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function") return { stream: source as AsyncIterable<Uint8Array> };
  throw new ArtifactError(`current.files.put takes a file path, a URL or a stream of bytes, not ${source === null ? "null" : typeof source}`, {
    hint: "pass a path, fs.createReadStream(...), a web ReadableStream or an async iterable of Uint8Array",
  });
}

function checkRef(ref: FileRef): void {
  if (!isFileRef(ref)) {
    throw new ArtifactError(`not a FileRef: ${JSON.stringify(ref)?.slice(0, 120)}`, {
      hint: "pass what current.files.put returned (an artifact holding { name, size, hash })",
    });
  }
}
