/**
 * A task that runs longer than FLOWRUN_SLOW_TASK_SECONDS is named while it runs, with how long
 * it has run and how long since its last line of output: a step stuck on a promise that never
 * settles does not leave the display silent. Without a terminal the notices come at growing
 * intervals (1, 2, 4... thresholds); on a terminal, every threshold. `--quiet` shows none; a
 * bad threshold is a usage error.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ConsoleDisplay } from "../src/cli/console-display.js";
import { describeResult, REPO, runFlowCli, tempDatastore } from "./support/flowrun-cli.js";

const store = tempDatastore();
after(() => store.remove());

const FLOW = join(REPO, "test/fixtures/processes/HungStepFlow.ts");
const THRESHOLD_S = 0.5;
const env = { FLOWRUN_SLOW_TASK_SECONDS: String(THRESHOLD_S) };

/** Milliseconds from the CLI's "850 ms", "1.5 s" or "2 min 10 s". */
function parseDuration(text: string): number {
  const [, minutes, seconds, ms] = /^(?:(\d+) min )?(?:([\d.]+) s)?(?:(\d+) ms)?$/.exec(text)!;
  return Number(minutes ?? 0) * 60_000 + Number(seconds ?? 0) * 1000 + Number(ms ?? 0);
}

describe("tasks running longer than the threshold", { concurrency: true }, () => {
  test("are named with their elapsed time and their silence, at growing intervals", async () => {
    const result = await runFlowCli(FLOW, [], store, { env });
    assert.equal(result.code, 1, describeResult(result));
    const notices = [...result.stdout.matchAll(/^\[HungStepFlow\/\d+-\w+\/wait\/\d+\] still running after (.+?); (?:no output yet|last output (.+?) ago)$/gm)];
    assert.ok(notices.length >= 2, `the hung task is named while it runs\n${describeResult(result)}`);
    notices.forEach(([line, elapsed, silent], k) => {
      assert.ok(parseDuration(elapsed!) >= THRESHOLD_S * 1000 * 2 ** k, `notice ${k + 1} comes after ${2 ** k} thresholds: ${line}`);
      // The task prints a line once its worker has started: until then, "no output yet".
      if (silent) assert.ok(parseDuration(silent) <= parseDuration(elapsed!), line);
    });
    assert.match(result.stderr, /timed out/);
  });

  test("are not named with --quiet", async () => {
    const result = await runFlowCli(FLOW, ["--quiet"], store, { env });
    assert.equal(result.code, 1, describeResult(result));
    assert.doesNotMatch(result.stdout + result.stderr, /still running/);
  });

  test("a threshold that is not a number of seconds is a usage error", async () => {
    const result = await runFlowCli(FLOW, [], store, { env: { FLOWRUN_SLOW_TASK_SECONDS: "soon" } });
    assert.equal(result.code, 2, describeResult(result));
    assert.match(result.stderr, /^flowrun: FLOWRUN_SLOW_TASK_SECONDS=soon is not a number of seconds \[FLOWRUN_ERR_USAGE\]\n  hint: /);
  });

  test("on a terminal, are named every threshold until they end", async () => {
    const lines: string[] = [];
    const terminal = { isTTY: true, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
    const display = new ConsoleDisplay(false, terminal, 100);
    display.task({ kind: "started", pathspec: "HungStepFlow/1/wait/2", attempt: 0 });
    await sleep(450);
    display.task({ kind: "finished", pathspec: "HungStepFlow/1/wait/2", attempt: 0, durationMs: 450 });
    const notices = () => lines.filter((line) => line.includes("still running after"));
    const shown = notices().length;
    assert.ok(shown >= 2, `a notice per threshold while the task ran:\n${lines.join("")}`);
    await sleep(300);
    assert.equal(notices().length, shown, "none once the task has ended");
  });
});
