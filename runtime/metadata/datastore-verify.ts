/**
 * `flowrun datastore verify` for the local datastore: the file's structure (every tree
 * page, see lmdb-file-check.ts), every blob against its hash (blobs are content-addressed,
 * so a changed byte anywhere in one shows), in data.mdb and as files under `blobs/` (each
 * present, of the size recorded), and every artifact a run or task refers to present. It
 * reads the whole datastore: its cost is reading every byte once. Temporary files of blob
 * writes and files LMDB does not record (a writer killed before it recorded them) are not
 * problems: nothing refers to them.
 */
import { join } from "node:path";
import type { RunRecord, TaskRecord } from "./records.js";
import { blobHash } from "../datastore/blob-hash.js";
import type { ArtifactRef } from "../datastore/content-store.js";
import { isBlobHash } from "../datastore/blob-files.js";
import { lmdbFileProblems } from "../datastore/lmdb-file-check.js";
import { LmdbBackend } from "../datastore/lmdb-backend.js";

/** Each problem found, one line each; empty when the datastore is sound. */
export async function verifyLocalDatastore(location: string): Promise<string[]> {
  const file = join(location, "data.mdb");
  const structure = lmdbFileProblems(file);
  // A damaged file is not handed to LMDB: that is what crashes.
  if (structure.length > 0) return structure.map((problem) => `${file}: ${problem}`);
  const backend = new LmdbBackend(location);
  try {
    const problems: string[] = [];
    for (const hash of backend.blobHashes()) {
      const bytes = backend.readBlobTransient(hash);
      if (!bytes || blobHash(bytes) !== hash) problems.push(`blob ${hash}: its bytes do not match its hash (changed after it was written)`);
    }
    const files = backend.blobFileStore;
    for (const { hash, entry } of backend.blobFileEntries()) {
      if (!isBlobHash(hash)) {
        problems.push(`blob file record ${JSON.stringify(hash)}: not a blob hash (written by something other than flowrun)`);
        continue;
      }
      const file = files.path(hash);
      const found = files.hashFile(hash);
      if (!found) problems.push(`blob ${hash}: its file ${file} is missing`);
      else if (found.size !== entry.size) problems.push(`blob ${hash}: its file ${file} has ${found.size} bytes where ${entry.size} were written`);
      else if (found.hash !== hash) problems.push(`blob ${hash}: the bytes of its file ${file} do not match its hash (changed after it was written)`);
    }
    const missing = async (owner: string, refs: Record<string, ArtifactRef> | undefined) => {
      for (const [name, ref] of Object.entries(refs ?? {})) {
        for (const hash of ref.chunks ?? [ref.hash]) {
          if (!(await backend.hasBlob(hash))) problems.push(`${owner}: artifact '${name}' refers to blob ${hash}, which is missing`);
        }
      }
    };
    for (const { value: run } of await backend.listRecords<RunRecord>("runs/")) await missing(`${run.flow}/${run.runId}`, run.parameterRefs);
    for (const { value: task } of await backend.listRecords<TaskRecord>("tasks/")) {
      const pathspec = `${task.flow}/${task.runId}/${task.step}/${task.taskId}`;
      const inputs = task.foreachStack.flatMap((frame) => (frame.input ? [[`(foreach input of ${frame.split})`, frame.input] as const] : []));
      await missing(pathspec, { ...task.artifacts, ...Object.fromEntries(inputs) });
    }
    return problems;
  } finally {
    await backend.close();
  }
}

/** A consistent copy of the local datastore at `location` into `dir` (created; must be empty). */
export async function backupLocalDatastore(location: string, dir: string): Promise<void> {
  const backend = new LmdbBackend(location);
  try {
    await backend.backup(dir);
  } finally {
    await backend.close();
  }
}
