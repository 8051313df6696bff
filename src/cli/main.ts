#!/usr/bin/env node
// placeholder dispatcher; replaced by the full CLI
const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  check: () => import("./commands/check.js"),
  show: () => import("./commands/show.js"),
  "output-dot": () => import("./commands/output-dot.js"),
};
const load = command ? commands[command] : undefined;
if (!load) {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
process.exitCode = await (await load()).run(rest);
