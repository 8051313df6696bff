/**
 * `flowrun worker --redis URL [--queue NAME] [--concurrency N] --datastore s3 --datastore-root s3://...`:
 * runs tasks of remote steps from the queue until stopped. Ctrl-C (SIGTERM) takes no new
 * task and lets the running ones finish and commit; a second one stops at once (those tasks
 * then run again on another worker).
 */
import { availableParallelism } from "node:os";
import { config, redisUrl } from "../../core/config.js";
import { datastoreConfig } from "../../core/datastore-config.js";
import { QUEUE_NAME } from "../../core/flow/decorators.js";
import { RemoteQueueError, UsageError } from "../../core/errors.js";
import { DEFAULT_QUEUE } from "../../../runtime/remote/remote-job.js";
import { intOption, parseArgv, rejectArguments, stringOption } from "../argv.js";

/** Seconds a job's lock lasts unless renewed: a killed worker's tasks run elsewhere after about this long. */
const LOCK_SECONDS = 10;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgv(argv, {
    redis: { value: true },
    queue: { value: true },
    concurrency: { value: true },
    datastore: { value: true },
    "datastore-root": { value: true },
    "lock-seconds": { value: true },
  });
  rejectArguments(args, "worker");
  const url = redisUrl(stringOption(args, "redis") ?? config.redisUrl());
  const queue = stringOption(args, "queue") ?? DEFAULT_QUEUE;
  if (!QUEUE_NAME.test(queue)) throw new UsageError(`--queue ${queue}: a queue name may only hold letters, digits, '_', '.', '-'`);
  const datastore = datastoreConfig({ datastore: stringOption(args, "datastore"), root: stringOption(args, "datastore-root") });
  if (datastore.kind !== "s3") {
    throw new RemoteQueueError(`flowrun worker needs the S3 datastore, not ${datastore.root}`, { hint: "pass --datastore s3 --datastore-root s3://bucket/prefix: the runs it serves write there" });
  }
  const { QueueWorker } = await import("../../../runtime/remote/queue-worker.js");
  const worker = await QueueWorker.start({
    redisUrl: url,
    queue,
    concurrency: intOption(args, "concurrency", availableParallelism()),
    datastore,
    lockSeconds: intOption(args, "lock-seconds", LOCK_SECONDS),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write(`${signal} again: stopping now; its running tasks will run again on another worker\n`);
        void worker.close(true).finally(resolve);
        return;
      }
      stopping = true;
      process.stderr.write(`${signal}: taking no new tasks; running ones finish (${signal} again stops now)\n`);
      void worker.close().finally(resolve);
    };
    process.on("SIGINT", stop).on("SIGTERM", stop);
  });
  return 0;
}
