/**
 * A record's value as stored by every backend: its JSON text. Encoding comes before any
 * write, so a batch holding a value JSON cannot represent (undefined, a function, a BigInt,
 * a cycle) is refused whole, naming the record, and the datastore is never blamed for it.
 */
import { DatastoreError } from "../../src/core/errors.js";

/** @throws DatastoreError (not a DatastoreWriteError: the value is at fault) naming `key`. */
export function encodeRecord(key: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new DatastoreError(`record ${key}: value is not JSON-serialisable (${(error as Error).message})`, { cause: error });
  }
  if (text === undefined) throw new DatastoreError(`record ${key}: value ${String(value)} is not JSON-serialisable`);
  return text;
}
