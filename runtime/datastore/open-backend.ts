/** Opens the StorageBackend a DatastoreConfig names; the S3 SDK loads only when S3 is used. */
import { resolve } from "node:path";
import type { DatastoreConfig } from "../../src/core/datastore-config.js";
import type { StorageBackend } from "./storage-backend.js";

export async function openBackend(config: DatastoreConfig): Promise<StorageBackend> {
  if (config.kind === "s3") {
    const { openS3Backend } = await import("./s3-backend.js");
    return openS3Backend(config.root);
  }
  const { LmdbBackend } = await import("./lmdb-backend.js");
  return new LmdbBackend(resolve(config.root));
}
