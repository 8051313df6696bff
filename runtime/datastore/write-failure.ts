/**
 * What a refused datastore write tells the user, in one line: which datastore, why (disk
 * full, I/O error, read-only, quota, the S3 answer), what was being written and how big.
 * A backend knows why and where; only the layer above it knows what the bytes are (an
 * artifact, a task record, a log), so the backend throws a DatastoreWriteError with the
 * reason and `writing()` puts the name and size in front of it.
 */
import { statfsSync } from "node:fs";
import { constants } from "node:os";
import { DatastoreError, DatastoreWriteError } from "../../src/core/errors.js";

/** Less free space than this after a failed write means the disk is what is full. */
const NEARLY_FULL_BYTES = 1024 * 1024;

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, number]) => [number, name]));

const REASONS: Record<string, { reason: string; hint: string }> = {
  ENOSPC: { reason: "no space left on the device", hint: "make room on that filesystem (or use another --datastore-root), then resume the run" },
  EDQUOT: { reason: "disk quota exceeded", hint: "make room within the quota (or use another --datastore-root), then resume the run" },
  EROFS: { reason: "the filesystem is read-only", hint: "remount it writable (or use another --datastore-root), then resume the run" },
  EIO: { reason: "I/O error", hint: "check the disk (dmesg), then resume the run" },
};

/** `ENOSPC` for Node's string codes and for the errno numbers lmdb-js reports. */
function errnoName(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return code;
  return typeof code === "number" ? ERRNO_NAMES.get(Math.abs(code)) : undefined;
}

/** A failed write to a local directory, with the free space left on its filesystem. */
export function localWriteFailure(location: string, error: unknown): DatastoreWriteError {
  const code = errnoName(error);
  let free: number | undefined;
  try {
    const stats = statfsSync(location);
    free = stats.bavail * stats.bsize;
  } catch {
    // the free space only helps explain; the failure is reported either way
  }
  // LMDB reports a short write, which is what a full disk gives it, as EIO.
  const full = code === "EIO" && free !== undefined && free < NEARLY_FULL_BYTES;
  const known = full ? REASONS.ENOSPC : code ? REASONS[code] : undefined;
  const details = [code, free === undefined ? undefined : `${formatBytes(free)} free on its filesystem`];
  const reason = known?.reason ?? (error as Error).message;
  const said = details.filter(Boolean).join(", ");
  return new DatastoreWriteError(`local datastore ${location}: ${reason}${said ? ` (${said})` : ""}`, {
    hint: known?.hint ?? "check free disk space and permissions, then resume the run",
    cause: error,
  });
}

/** A backend's DatastoreError from a write, as a DatastoreWriteError (same message and hint). */
export function asWriteFailure(error: unknown): unknown {
  if (!(error instanceof DatastoreError) || error instanceof DatastoreWriteError) return error;
  return new DatastoreWriteError(error.message, { where: error.where, hint: error.hint, cause: error });
}

/**
 * Runs a backend write; a DatastoreWriteError from it is rethrown naming `what` and its size.
 * `bytes` is only called on failure (a record's size costs a JSON encoding).
 */
export async function writing<T>(what: string, bytes: () => number, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof DatastoreWriteError)) throw error;
    throw new DatastoreWriteError(`cannot write ${what} (${formatBytes(bytes())}): ${error.message}`, {
      where: error.where,
      hint: error.hint,
      cause: error,
    });
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
