/**
 * What an S3 failure means: S3 settings as the user wrote them, which failures are worth
 * another attempt, and the rest turned into one-line `DatastoreError`s naming the setting
 * to fix.
 *
 * The SDK resolves credentials, region and endpoint itself; we read the same files with the
 * SDK's own loader only far enough to *name* them in messages (and to pick path-style
 * addressing when an endpoint is configured).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { ENV_VARS } from "../../src/core/config.js";
import { DatastoreError } from "../../src/core/errors.js";

export interface S3Root {
  bucket: string;
  /** Key prefix with a trailing `/`, or `""` for the bucket's top level. */
  prefix: string;
  /** `s3://bucket/prefix` normalised, for messages. */
  location: string;
}

/** An explicitly configured endpoint and the setting it came from. */
export interface S3Endpoint {
  setting: string;
  url: string;
}

export interface S3Settings {
  profile?: string;
  endpoint?: S3Endpoint;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Root(root: string): S3Root {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(root);
  if (!match || !BUCKET_NAME.test(match[1]!)) {
    throw new DatastoreError(`--datastore-root must look like s3://bucket/prefix, got ${JSON.stringify(root)}`, {
      hint: `pass --datastore-root s3://my-bucket/flowrun (or set ${ENV_VARS.datastoreRoot.name})`,
    });
  }
  const bucket = match[1]!;
  const path = match[2]!.replace(/^\/+|\/+$/g, "");
  return { bucket, prefix: path ? `${path}/` : "", location: `s3://${bucket}${path ? `/${path}` : ""}` };
}

/** `~/.aws/config` shown the way users write it, unless overridden by AWS_CONFIG_FILE. */
function displayPath(path: string): string {
  const home = homedir();
  return path.startsWith(home + "/") ? `~${path.slice(home.length)}` : path;
}

/**
 * Checks what the SDK would otherwise fail on vaguely (an unknown profile surfaces as
 * "Could not load credentials from any providers"), and finds the endpoint to name.
 */
export async function readS3Settings(env: NodeJS.ProcessEnv = process.env): Promise<S3Settings> {
  const configFile = env.AWS_CONFIG_FILE || join(homedir(), ".aws", "config");
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), ".aws", "credentials");
  const profile = env.AWS_PROFILE || undefined;
  // Profiles by name, as the SDK reads them (`[profile dev]` in config is "dev"). Loaded here,
  // not at the top: the bundled worker runtime holds this module, and a static import of a
  // package is hoisted to the bundle's top, where every worker thread would load it (~40 ms).
  const { loadSharedConfigFiles } = await import("@smithy/core/config");
  const files = await loadSharedConfigFiles({ configFilepath: configFile, filepath: credentialsFile, ignoreCache: true });
  const section = files.configFile[profile ?? "default"];
  if (profile !== undefined && !section && !files.credentialsFile[profile]) {
    throw new DatastoreError(`AWS_PROFILE=${profile}: profile not found in ${displayPath(configFile)}`, {
      hint: `add a [profile ${profile}] section (aws configure --profile ${profile}) or unset AWS_PROFILE`,
    });
  }
  let endpoint: S3Endpoint | undefined;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== "true") {
    for (const name of ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]) {
      if (env[name]) {
        endpoint = { setting: name, url: env[name]! };
        break;
      }
    }
    const fromProfile = section?.endpoint_url;
    if (!endpoint && fromProfile) {
      endpoint = { setting: `endpoint_url (profile ${profile ?? "default"} in ${displayPath(configFile)})`, url: fromProfile };
    }
  }
  if (endpoint && !/^https?:\/\/[^/]/.test(endpoint.url)) {
    throw new DatastoreError(`${endpoint.setting}=${endpoint.url}: not an http(s) URL`, {
      hint: "use the form http://host:port or https://host",
    });
  }
  return { profile, endpoint };
}

export interface ErrorContext {
  root: S3Root;
  settings: S3Settings;
  region: string;
  /** The S3 operation and object, for failures that are not misconfiguration. */
  operation: string;
  key?: string;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found (DNS lookup failed)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "no answer (timed out)",
};

/** The network error code of `error`, its causes, or the attempts of an AggregateError. */
export function networkCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  const e = error as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof e.code === "string" && e.code in NETWORK) return e.code;
  if (e.name === "TimeoutError" || e.name === "AbortError") return "ETIMEDOUT";
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const code = networkCode(inner, depth + 1);
    if (code) return code;
  }
  return undefined;
}

function credentialSource(settings: S3Settings, env: NodeJS.ProcessEnv): string {
  if (settings.profile) return `the credentials of AWS_PROFILE=${settings.profile}`;
  if (env.AWS_ACCESS_KEY_ID) return `AWS_ACCESS_KEY_ID=${env.AWS_ACCESS_KEY_ID}`;
  return "the default AWS credentials";
}

/** One `DatastoreError` for any failure of an S3 call; the SDK error stays as `cause`. */
export function toDatastoreError(error: unknown, ctx: ErrorContext, env: NodeJS.ProcessEnv = process.env): DatastoreError {
  if (error instanceof DatastoreError) return error;
  const e = (error ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; [NOT_JSON]?: boolean };
  if (e[NOT_JSON]) {
    const object = `s3://${ctx.root.bucket}/${ctx.key}`;
    return new DatastoreError(`${object}: record is not valid JSON (read ${OUTER_ATTEMPTS} times)`, {
      hint: `flowrun writes records whole, so it was changed in the bucket: restore an earlier version (aws s3api list-object-versions --bucket ${ctx.root.bucket} --prefix ${ctx.key}) if the bucket is versioned, else from a backup`,
      cause: error,
    });
  }
  const status = e.$metadata?.httpStatusCode;
  const bucketUrl = `s3://${ctx.root.bucket}`;
  const where = ctx.settings.endpoint
    ? `${ctx.settings.endpoint.setting}=${ctx.settings.endpoint.url}`
    : `s3.${ctx.region}.amazonaws.com (AWS_REGION=${ctx.region})`;

  const code = networkCode(error);
  if (code) {
    return new DatastoreError(`${where}: ${NETWORK[code]}`, {
      hint: ctx.settings.endpoint
        ? `start the S3 server or fix ${ctx.settings.endpoint.setting.split(" ")[0]}`
        : "check the network connection and any HTTPS_PROXY setting",
      cause: error,
    });
  }
  // A configured endpoint that answers like a web server (an HTML 404, a console port, a
  // proxy's page) is not S3: without this, a HeadBucket 404 reads as "bucket does not exist".
  // S3 and the compatible servers answer errors in XML (or with no body type at all).
  const contentType = responseHeader(error, "content-type")?.split(";")[0]?.trim();
  if (ctx.settings.endpoint && status !== undefined && status >= 400 && status < 500 && contentType && !/xml/i.test(contentType)) {
    const setting = ctx.settings.endpoint.setting.split(" ")[0];
    return new DatastoreError(`${where}: answered ${ctx.operation} with HTTP ${status} (${contentType}): not an S3 API endpoint`, {
      hint: `point ${setting} at the S3 API of the server (for MinIO the API port, not the web console)`,
      cause: error,
    });
  }
  if (e.name === "CredentialsProviderError" || e.name === "TokenProviderError") {
    // The SDK's generic text means "nothing found"; anything else (expired SSO session,
    // failing credential_process) is specific enough to show.
    const found = /from any providers/.test(e.message ?? "") ? undefined : (e.message ?? "").split("\n")[0];
    const profile = ctx.settings.profile;
    return new DatastoreError(
      profile
        ? `AWS_PROFILE=${profile}: ${found ?? "the profile has no usable credentials"}`
        : `AWS credentials: ${found ?? "none found (AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials)"}`,
      {
        hint: profile
          ? `run \`aws configure --profile ${profile}\` (or \`aws sso login --profile ${profile}\`)`
          : "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run `aws configure`",
        cause: error,
      },
    );
  }
  if (e.name === "NoSuchBucket" || (ctx.operation === "HeadBucket" && status === 404)) {
    return new DatastoreError(`${bucketUrl}: bucket does not exist`, {
      hint: `create it (aws s3 mb ${bucketUrl}) or fix --datastore-root / ${ENV_VARS.datastoreRoot.name}`,
      cause: error,
    });
  }
  if (status === 403 || /^(AccessDenied|Forbidden|InvalidAccessKeyId|SignatureDoesNotMatch)$/.test(e.name ?? "")) {
    return new DatastoreError(`${bucketUrl}: access denied`, {
      hint: `${credentialSource(ctx.settings, env)} must be valid and allow s3:ListBucket, s3:GetObject, s3:PutObject on ${ctx.root.location}`,
      cause: error,
    });
  }
  if (status === 301 || e.name === "PermanentRedirect" || e.name === "AuthorizationHeaderMalformed") {
    return new DatastoreError(`${bucketUrl}: bucket is not in region ${ctx.region}`, {
      hint: "set AWS_REGION (or region in the AWS profile) to the bucket's region",
      cause: error,
    });
  }
  const object = ctx.key === undefined ? ctx.root.location : `s3://${ctx.root.bucket}/${ctx.key}`;
  const detail = (e.message ?? String(error)).split("\n")[0];
  return new DatastoreError(`${object}: S3 ${ctx.operation} failed: ${e.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${detail}`, {
    hint: status === 503 || status === 429
      ? "S3 is throttling: lower --max-workers, or retry later"
      : status === 507
        ? "the S3 server is out of storage: make room on it, then resume the run"
        : "retry; if it persists, run with --debug to see the S3 error",
    cause: error,
  });
}

/** A header of the HTTP response an SDK error came with (`$response`, lower-case names). */
function responseHeader(error: unknown, name: string): string | undefined {
  const headers = (error as { $response?: { headers?: Record<string, string | undefined> } } | undefined)?.$response?.headers;
  const value = headers?.[name];
  return typeof value === "string" ? value : undefined;
}

/** Retries after the SDK's own attempts (3 by default, AWS_MAX_ATTEMPTS) gave up. */
const OUTER_ATTEMPTS = 4;
/** Marks failures while reading a response body: the SDK had already returned, so it did not retry them. */
const BODY_FAILED = Symbol("body read failed");

export function bodyFailure(error: unknown): Error {
  return Object.assign(error instanceof Error ? error : new Error(String(error)), { [BODY_FAILED]: true });
}

/** Marks a record body that does not parse as JSON. */
const NOT_JSON = Symbol("record is not JSON");

/**
 * A record that read back as something other than JSON. flowrun only ever stores whole
 * JSON, so this is first taken for a torn read or a proxy's error page and read again
 * like a failed body; only a record that stays unreadable is reported.
 */
export function notJsonRecord(error: unknown): Error {
  return Object.assign(bodyFailure(error), { [NOT_JSON]: true });
}

function retryable(error: unknown): boolean {
  const e = error as { [BODY_FAILED]?: boolean; name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (e?.[BODY_FAILED]) return true;
  // The SDK already retried network errors: once more here would only slow down a dead endpoint.
  if (networkCode(error)) return false;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  // 507 Insufficient Storage (a full MinIO) does not clear up within seconds of backoff.
  return status === 429 || (status >= 500 && status !== 507) || e?.name === "SlowDown";
}

/**
 * Runs one S3 exchange (request and body) again when the SDK could not: throttling and
 * 5xx that outlasted its attempts, and failures while streaming a body. Exponential
 * backoff with full jitter (0..1 s, 0..2 s, 0..4 s) so many workers do not retry in step;
 * persistent throttling thus fails after ~5-10 s instead of piling on.
 */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= OUTER_ATTEMPTS || !retryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 500 * 2 ** attempt));
    }
  }
}
