/** Opens the StorageBackend a DatastoreConfig names; the S3 SDK loads only when S3 is used. */
import { resolve } from "node:path";
import type { DatastoreConfig } from "../../src/core/datastore-config.js";
import type { StorageBackend } from "./storage-backend.js";

export interface OpenBackendOptions {
  /**
   * This process's main thread already has the datastore open: a task worker's case. The
   * local file was checked by that open, and lmdb-js shares the open environment between
   * the process's threads, so it is not checked again (2-50 ms a worker, more as a run's
   * commits add pages to walk).
   */
  openInThisProcess?: boolean;
}

export async function openBackend(config: DatastoreConfig, options: OpenBackendOptions = {}): Promise<StorageBackend> {
  if (config.kind === "s3") {
    const { openS3Backend } = await import("./s3-backend.js");
    return openS3Backend(config.root);
  }
  const { LmdbBackend } = await import("./lmdb-backend.js");
  return new LmdbBackend(resolve(config.root), { checkFile: !options.openInThisProcess });
}
