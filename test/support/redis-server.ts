/**
 * A real `redis-server` for tests, in a child process on a free port of 127.0.0.1, with
 * nothing persisted: a test can kill it (SIGKILL, as a crash) and start another.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export interface RedisTestServer {
  url: string;
  port: number;
  /** SIGKILL; resolves once the process is gone. */
  stop(): Promise<void>;
}

export async function startRedisServer(port?: number): Promise<RedisTestServer> {
  const chosen = port ?? (await freePort());
  const child = spawn("redis-server", ["--port", String(chosen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${chosen}:\n${output}`)), 10_000);
    child.on("error", (error) => reject(new Error(`cannot start redis-server (is it installed? .ci/run installs it): ${error.message}`)));
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { url: `redis://127.0.0.1:${chosen}`, port: chosen, stop: () => killed(child) };
}

export function killed(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
