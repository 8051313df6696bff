/**
 * Debian's chromium, driven by playwright-core (no browser download exists here). `.ci/run`
 * installs it (scripts/install-system-packages.sh); elsewhere the browser tests are skipped
 * unless FLOWRUN_REQUIRE_CHROMIUM=1 (set by `make test`), which makes a missing one fail.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = [process.env.FLOWRUN_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => Boolean(p));

export const chromiumPath = CANDIDATES.find((path) => existsSync(path));

/** Why browser tests cannot run here, or false when they can. A required browser that is missing fails instead. */
export function chromiumMissing(): string | false {
  if (chromiumPath) return false;
  if (process.env.FLOWRUN_REQUIRE_CHROMIUM === "1") throw new Error(`chromium not found (looked at ${CANDIDATES.join(", ")}): apt-get install chromium`);
  return "chromium is not installed (apt-get install chromium)";
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}
