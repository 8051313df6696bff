/**
 * A record on S3 that reads back as something other than JSON (changed in the bucket by
 * hand, a torn read, a proxy's error page): flowrun reads it again before giving up, then
 * stops with one line naming the bucket and the key and a hint that recovers the record.
 * It never suggests deleting it: the record may be the only trace of a run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describeResult, runCli } from "./support/flowrun-cli.js";
import { s3ServerPerFile, s3Store } from "./fixtures/s3/test-stores.js";

const s3Server = s3ServerPerFile();

test("a run record that is not JSON: read again, then one line naming bucket and key, and how to recover", async () => {
  const server = s3Server();
  const store = s3Store(server, "corrupt");
  const key = "corrupt/records/runs/GarbledFlow/1700000000000001";
  const s3 = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, region: "us-east-1", credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  await s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: '<html><body>502 Bad Gateway</body></html>{"flow": "Garb' }));
  s3.destroy();

  const result = await runCli(["runs", "GarbledFlow", "--all-namespaces"], { env: store.env });
  assert.equal(result.code, 2, describeResult(result));
  const [headline, hint, ...rest] = result.stderr.trimEnd().split("\n");
  assert.deepEqual(rest, [], "one line and its hint");
  assert.match(headline!, new RegExp(`s3://${server.bucket}/${key}`), "names the bucket and the key");
  assert.match(headline!, /not valid JSON/);
  assert.match(hint!, /hint: .*version/, "says how to get the record back");
  assert.doesNotMatch(result.stderr, /delete/i);
  assert.ok((await server.objectReads(`/${server.bucket}/${key}`)) > 1, "the record was read again before giving up");
});
