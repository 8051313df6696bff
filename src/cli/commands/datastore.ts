/**
 * `flowrun datastore backup DIR` and `flowrun datastore verify` (local datastore): a
 * consistent copy to restore from, and a full check of what is stored.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { backupLocalDatastore, verifyLocalDatastore } from "../../../runtime/metadata/datastore-verify.js";
import { UsageError } from "../../core/errors.js";
import { parseInspectArgs } from "./inspect-args.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv);
  const [action, target, ...rest] = args.positionals;
  const usage = "usage: flowrun datastore backup DIR | flowrun datastore verify  [--datastore-root PATH]";
  if ((action !== "backup" && action !== "verify") || rest.length > 0 || (action === "backup") !== (target !== undefined)) throw new UsageError(usage);
  if (args.datastore.kind !== "local") {
    throw new UsageError(`flowrun datastore ${action} works on the local datastore`, { hint: "S3 keeps its own copies: use bucket versioning or replication" });
  }
  const location = args.datastore.root;
  if (!existsSync(resolve(location, "data.mdb"))) throw new UsageError(`${location} holds no datastore (no data.mdb)`, { hint: "pass --datastore-root PATH" });
  if (action === "backup") {
    const dir = resolve(target!);
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`${dir} is not empty`, { hint: "back up into a new or empty directory" });
    mkdirSync(dir, { recursive: true });
    await backupLocalDatastore(location, dir);
    process.stdout.write(`backed up ${location} to ${dir}\n  restore: stop flowrun, then copy ${dir}/data.mdb over ${location}/data.mdb and ${dir}/blobs/ (if there is one) into ${location}/blobs/\n`);
    return 0;
  }
  const problems = await verifyLocalDatastore(location);
  for (const problem of problems) process.stdout.write(`${problem}\n`);
  if (problems.length > 0) {
    process.stderr.write(`flowrun: ${problems.length} problem${problems.length === 1 ? "" : "s"} in ${location}\n  hint: restore data.mdb and blobs/ from a backup (flowrun datastore backup DIR makes one)\n`);
    return 2;
  }
  process.stdout.write(`${location}: no problems found\n`);
  return 0;
}
