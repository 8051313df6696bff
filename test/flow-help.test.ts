/**
 * `flowrun <flow.ts> --help` as a user reads it: the flow's whole description, every
 * parameter's whole help text wrapped to the terminal, and defaults as values, with
 * "computed at run start" for a default the flow computes (never its source code).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeResult, fixtureFlow, runCli } from "./support/flowrun-cli.js";

const FLOW = fixtureFlow("described-params.ts");
const squash = (text: string) => text.replace(/\s+/g, " ").trim();

/** The lines of one parameter: its flag line and the wrapped lines under it, as one string. */
function entry(stdout: string, flag: string): string {
  const lines = stdout.split("\n");
  const first = lines.findIndex((line) => line.trimStart().startsWith(`${flag} `));
  assert.ok(first >= 0, `no ${flag} in:\n${stdout}`);
  const rest = lines.slice(first + 1);
  const end = rest.findIndex((line) => !/^ {6,}\S/.test(line));
  return squash([lines[first], ...rest.slice(0, end)].join(" "));
}

test("the flow's help shows defaults as values, computed ones as such, and whole descriptions wrapped", async () => {
  const result = await runCli([FLOW, "--help"]);
  assert.equal(result.code, 0, describeResult(result));
  const out = result.stdout;
  // Not a terminal: 80 columns.
  for (const line of out.split("\n")) assert.ok(line.length <= 80, `longer than 80 columns: ${JSON.stringify(line)}`);
  assert.doesNotMatch(out, /=>|function|return 30|Date\.now/, "no source code of a default is shown");

  assert.ok(
    squash(out).includes(
      "DescribedParamsFlow — Scores every customer of the nightly extract against the churn model and writes the riskiest " +
        "ones to the retention team's queue, so that they can call them before the end of the month. " +
        "Runs in test mode (a hundred customers) unless --production is given.",
    ),
    out,
  );
  assert.match(
    entry(out, "--test-mode"),
    /Score only a hundred customers, read from the bundled sample instead of the warehouse \(default: computed at run start\)$/,
  );
  assert.match(entry(out, "--since"), /First day of activity to score \(default: computed at run start\)$/);
  assert.match(entry(out, "--window"), /Days of activity per customer \(default: computed at run start\)$/);
  assert.match(
    entry(out, "--threshold"),
    /--threshold <Number> Churn probability above which a customer is queued for a call from the retention team; lower it to queue more customers, raise it to queue fewer \(default: 0\.75\)$/,
  );
  assert.match(entry(out, "--region"), /Warehouse region \(default: "eu-west"\)$/);
  assert.match(entry(out, "--features"), /Feature columns \(default: \["tenure", "spend"\]\)$/);
  assert.match(entry(out, "--verbose"), /Print every score \(default: false\)$/);
  assert.match(entry(out, "--notes"), /Notes for the retention team \(default: "notes\.txt"\)$/);
});
