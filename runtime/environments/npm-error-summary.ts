/** Lines npm prints around every error that say nothing about this one. */
const NOISE = [
  /^code \S+$/,
  /^(errno|syscall|path) /,
  /^A complete log of this run/,
  /^Log files were not written/,
  /^You can rerun the command/,
  /^In most cases you or one of your dependencies/,
  /^a package version that doesn't exist\.?$/,
  /^Note that you can also install from a$/,
  /^tarball, folder, http url, or git url\.?$/,
  /^(This is related to|Please include the following)/,
];

/** Reasons that name the package concerned; preferred over npm's first line when present. */
const PREFERRED = [
  /No matching version found for /,
  /is not in this registry/,
  /could not be found/,
  /request to \S+ failed/,
  /ENOENT: no such file or directory/,
];

/**
 * npm's error output reduced to the one line that says what went wrong, e.g.
 * `No matching version found for fr-greeter@^99.` rather than ten `npm error` lines.
 * Works for npm 7+ (`npm error`) and older (`npm ERR!`) prefixes.
 */
export function summarizeNpmError(output: string): string {
  const lines = output
    .split(/\r?\n/)
    .map((line) => /^npm (?:error|ERR!)\s?(.*)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined)
    // npm tags continuation lines with the error kind (`notarget`, `404`, `enoent`).
    .map((line) => line.replace(/^(?:notarget|404|enoent)\s+/, "").replace(/^FetchError: /, "").trim())
    .filter((line) => line !== "" && !NOISE.some((pattern) => pattern.test(line)));
  for (const pattern of PREFERRED) {
    const line = lines.find((candidate) => pattern.test(candidate));
    if (line) return line;
  }
  const code = /^npm (?:error|ERR!) code (\S+)/m.exec(output)?.[1];
  return lines[0] ?? (code ? `npm failed with ${code}` : lastLine(output) ?? "npm install failed");
}

function lastLine(text: string): string | undefined {
  return text.trim().split(/\r?\n/).pop()?.trim() || undefined;
}
