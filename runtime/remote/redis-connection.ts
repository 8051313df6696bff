/**
 * Connections to the Redis that holds the task queue. A URL is checked before anything
 * connects, and Redis is reached once with a short timeout first, so an unreachable server
 * is one line before a run or a worker starts, not a client retrying forever.
 */
import { Redis } from "ioredis";
import { ENV_VARS } from "../../src/core/config.js";
import { RemoteQueueError } from "../../src/core/errors.js";

const PROBE_TIMEOUT_MS = 3000;
/** How long a connection that gives up keeps trying: attempts back off 0.1, 0.2, ... 1 s, then 1 s each. */
export const LOST_SECONDS = 10;
const GIVE_UP_AFTER_ATTEMPTS = 15;
const REDIS_HINT = `start redis-server there, or pass --redis redis://host:6379 (or set ${ENV_VARS.redisUrl.name})`;

/** The URL without its password, for messages. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.href.replace(/\/$/, "");
}

/**
 * A connection for BullMQ (it retries forever and never fails a command for being offline:
 * the owner watches `status` and decides when a lost server ends the work), opened only
 * once Redis has answered.
 */
export async function connectRedis(url: string, options: { giveUp?: boolean } = {}): Promise<Redis> {
  await probeRedis(url);
  // Reconnects back off to once a second; with `giveUp`, the connection (and every duplicate
  // of it) ends after about LOST_SECONDS of failed attempts instead of retrying forever.
  const retryStrategy = (times: number) => (options.giveUp && times > GIVE_UP_AFTER_ATTEMPTS ? null : Math.min(times * 100, 1000));
  const client = new Redis(url, { maxRetriesPerRequest: null, retryStrategy });
  // Errors while reconnecting are the status the owner watches; without a listener ioredis prints them.
  client.on("error", () => {});
  return client;
}

/** Throws a one-line RemoteQueueError unless Redis at `url` answers a PING within a few seconds. */
async function probeRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: PROBE_TIMEOUT_MS });
  let reason: Error | undefined;
  client.on("error", (error: Error) => (reason ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const why = (reason as { code?: string } | undefined)?.code ?? reason?.message ?? (error as Error).message;
    throw new RemoteQueueError(`cannot reach Redis at ${displayUrl(url)}: ${why}`, { hint: REDIS_HINT });
  } finally {
    client.disconnect();
  }
}

/** Calls `onLost` once the connection has been down for LOST_SECONDS (or has given up). */
export function watchConnection(client: Redis, url: string, onLost: (error: RemoteQueueError) => void): () => void {
  let downSince: number | undefined;
  const timer = setInterval(() => {
    if (client.status === "ready") {
      downSince = undefined;
      return;
    }
    downSince ??= Date.now();
    if (client.status === "end" || Date.now() - downSince >= LOST_SECONDS * 1000) {
      clearInterval(timer);
      onLost(new RemoteQueueError(`lost the connection to Redis at ${displayUrl(url)} (down for ${LOST_SECONDS} s)`, { hint: "bring Redis back, then `flowrun resume`: committed tasks are cloned" }));
    }
  }, 250);
  timer.unref();
  return () => clearInterval(timer);
}
