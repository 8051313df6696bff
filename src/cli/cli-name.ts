/**
 * How the user invoked flowrun, for the commands we suggest: `flowrun` when installed, or
 * `npm run flowrun --` inside a checkout of flowrun itself (where there is no `flowrun` bin).
 */
export function cliName(): string {
  return process.env.npm_lifecycle_event === "flowrun" ? "npm run flowrun --" : "flowrun";
}
