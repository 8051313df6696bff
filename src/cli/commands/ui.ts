/** `flowrun ui [--port 8324] [--host 127.0.0.1]`: serves the web UI over the datastore until stopped. */
import { clientDatastore } from "../../client/client-datastore.js";
import { UsageError } from "../../core/errors.js";
import { DEFAULT_UI_PORT, isLoopback, startUiServer } from "../../ui/ui-server.js";
import { intOption, rejectArguments, stringOption } from "../argv.js";
import { parseInspectArgs } from "./inspect-args.js";

export async function run(argv: string[]): Promise<number> {
  const args = parseInspectArgs(argv, { port: { value: true }, host: { value: true } });
  rejectArguments(args, "ui");
  const port = intOption(args, "port", DEFAULT_UI_PORT, 0);
  if (port > 65535) throw new UsageError(`--port ${port} is not a port (0 to 65535; 0 picks a free one)`);
  const host = stringOption(args, "host") ?? "127.0.0.1";
  const store = await clientDatastore(args.datastore);
  if (!isLoopback(host)) {
    process.stderr.write(`warning: flowrun ui on ${host} has no login: anyone who can reach this port reads every run, log and artifact in ${args.datastore.root}\n`);
  }
  const ui = await startUiServer(store, { port, host }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE") throw new UsageError(`port ${port} on ${host} is in use`, { hint: `another flowrun ui? pick another with --port, e.g. --port ${port + 1}` });
    if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") throw new UsageError(`cannot listen on ${host}: ${error.message}`, { hint: "--host takes an address of this machine (default 127.0.0.1)" });
    throw error;
  });
  process.stdout.write(`flowrun ui: ${ui.url} (${store.config.kind} datastore at ${store.config.root}); Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await ui.close();
  return 0;
}
