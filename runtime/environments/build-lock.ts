/**
 * A cross-process lock that lets one process build an environment while the others wait
 * for it, instead of every process running the same `npm install`.
 *
 * The lock is a file created with O_EXCL holding its owner (pid, host, a random token); the
 * owner touches it every `heartbeatMs`. A waiter takes over a lock whose owner is dead:
 * same host and no such pid, or (any host, pid reuse) no heartbeat for `staleMs`.
 *
 * The lock only saves work; it is not what keeps the cache correct. Two waiters that find
 * the same stale lock can both take over (removing a file is not compare-and-swap), and
 * then both build; the rename in `publish` still lets exactly one copy into place.
 */
import { randomBytes } from "node:crypto";
import { readFile, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive, isCode } from "./environment-cache.js";

export interface LockOwner {
  pid: number;
  host: string;
  token: string;
  startedAt: string;
}

export interface BuildLock {
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** Checked while waiting: true when the holder finished the work, so waiting can stop. */
  isDone(): Promise<boolean>;
  /** Called once when the lock is held by someone else and this process starts waiting. */
  onWait?(owner: LockOwner | undefined): void;
  /** @default 200 */
  pollMs?: number;
  /** @default 15_000 */
  heartbeatMs?: number;
  /** Eight missed heartbeats: slow disks and paused laptops do not break a live build. @default 120_000 */
  staleMs?: number;
}

/** The lock, or undefined when another process completed the work while this one waited. */
export async function acquireBuildLock(path: string, options: AcquireOptions): Promise<BuildLock | undefined> {
  const { pollMs = 200, heartbeatMs = 15_000, staleMs = 120_000 } = options;
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    token: randomBytes(8).toString("hex"),
    startedAt: new Date().toISOString(),
  };
  let waiting = false;
  for (;;) {
    try {
      await writeFile(path, JSON.stringify(owner), { flag: "wx" });
      return held(path, owner.token, heartbeatMs);
    } catch (error) {
      if (!isCode(error, "EEXIST")) throw error;
    }
    if (await options.isDone()) return undefined;
    const holder = await readHolder(path);
    if (!holder) continue; // released between our attempt and our look: try again now
    if (isStale(holder, staleMs)) {
      await removeIfUnchanged(path, holder.raw);
      continue;
    }
    if (!waiting) options.onWait?.(holder.owner);
    waiting = true;
    await sleep(pollMs);
  }
}

function held(path: string, token: string, heartbeatMs: number): BuildLock {
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {}); // a lost heartbeat only risks a duplicate build
  }, heartbeatMs);
  heartbeat.unref(); // never keeps the process alive on its own
  return {
    async release() {
      clearInterval(heartbeat);
      const holder = await readHolder(path);
      // A waiter may have judged us stale and taken over: leave its lock alone.
      if (holder?.owner?.token === token) await unlink(path).catch(() => {});
    },
  };
}

interface Holder {
  raw: string;
  owner?: LockOwner;
  mtimeMs: number;
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    let owner: LockOwner | undefined;
    try {
      owner = JSON.parse(raw) as LockOwner;
    } catch {
      // Created but not yet written (O_EXCL create and write are two steps): owner unknown,
      // only the age can make it stale.
    }
    return { raw, owner, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (isCode(error, "ENOENT")) return undefined;
    throw error;
  }
}

function isStale(holder: Holder, staleMs: number): boolean {
  if (Date.now() - holder.mtimeMs > staleMs) return true;
  return holder.owner !== undefined && holder.owner.host === hostname() && !isAlive(holder.owner.pid);
}

/** Narrows (cannot close) the window in which two waiters both remove a stale lock. */
async function removeIfUnchanged(path: string, raw: string): Promise<void> {
  const now = await readHolder(path);
  if (now?.raw === raw) await unlink(path).catch((error) => {
    if (!isCode(error, "ENOENT")) throw error;
  });
}
