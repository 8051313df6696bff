/** `flowrun workers [--redis URL] [--queue NAME]`: the live workers of the task queue. */
import { config, redisUrl } from "../../core/config.js";
import { parseArgv, rejectArguments, stringOption } from "../argv.js";
import { printTable } from "./table.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseArgv(argv, { redis: { value: true }, queue: { value: true } });
  rejectArguments(args, "workers");
  const url = redisUrl(stringOption(args, "redis") ?? config.redisUrl());
  const { connectRedis, displayUrl } = await import("../../../runtime/remote/redis-connection.js");
  const { listWorkers } = await import("../../../runtime/remote/worker-registry.js");
  const redis = await connectRedis(url);
  try {
    const queue = stringOption(args, "queue");
    const workers = await listWorkers(redis, queue);
    if (workers.length === 0) {
      process.stdout.write(`no live workers${queue ? ` on queue ${queue}` : ""} at ${displayUrl(url)}\n  hint: start one with \`flowrun worker --redis ${displayUrl(url)} --datastore s3 --datastore-root s3://bucket/prefix\`\n`);
      return 0;
    }
    const now = Date.now();
    printTable(
      ["WORKER", "QUEUE", "CONCURRENCY", "RUNNING", "LAST BEAT", "FLOWRUN", "DATASTORE", "TASKS"],
      workers.map((w) => [
        w.id,
        w.queue,
        String(w.concurrency),
        String(w.tasks.length),
        `${Math.max(0, Math.round((now - Date.parse(w.heartbeatAt)) / 1000))} s ago`,
        w.version,
        w.datastore,
        w.tasks.slice(0, 3).join(" ") + (w.tasks.length > 3 ? ` (+${w.tasks.length - 3})` : ""),
      ]),
    );
    return 0;
  } finally {
    redis.disconnect();
  }
}
