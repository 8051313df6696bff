/**
 * `flowrun ui`: an HTTP server over the datastore, read-only. Every page is built here
 * (HTML with the DAG, timeline and charts as SVG); the one script it serves only follows live
 * updates, searches logs and opens previews. Each URL part is checked against what a flow,
 * run, step, task or artifact name can be before the datastore sees it, so no URL names
 * anything outside it; responses carry a Content-Security-Policy that allows no script but
 * the server's own.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ContentStore } from "../../runtime/datastore/content-store.js";
import { attemptLogKey, type MetadataStore } from "../../runtime/metadata/metadata-store.js";
import type { ObservedRunStatus, RunRecord, TaskRecord } from "../../runtime/metadata/records.js";
import { readTaskCard } from "../client/task-card.js";
import { checkPathspecPart } from "../core/pathspec.js";
import { artifactPreview } from "./artifact-preview.js";
import { html, type SafeHtml } from "./html.js";
import { page } from "./layout.js";
import { followTask, RunWatchers } from "./live-updates.js";
import { runPage, runTimeline, stepPage } from "./run-page.js";
import { runsPage } from "./runs-page.js";
import { taskCardHtml } from "./task-card-html.js";
import { readTaskLog, taskPage } from "./task-page.js";
import { listRunPage, RUN_STATUSES, runView, type RunFilters } from "./ui-data.js";

export const DEFAULT_UI_PORT = 8324;
const RUNS_PER_PAGE = 50;
const ARTIFACT_NAME = /^[A-Za-z_$][\w$]{0,199}$/;

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "connect-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join("; ");

const STATIC: Record<string, { type: string; file: URL }> = {
  "app.js": { type: "text/javascript; charset=utf-8", file: new URL("./static/app.js", import.meta.url) },
  "style.css": { type: "text/css; charset=utf-8", file: new URL("./static/style.css", import.meta.url) },
};

/** An address only this machine reaches (what `flowrun ui` binds by default). */
export function isLoopback(host: string): boolean {
  return ["127.0.0.1", "localhost", "::1"].includes(host);
}

export interface UiStores {
  metadata: MetadataStore;
  content: ContentStore;
}

export interface UiServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** A request the UI answers with a status and a one-line message. */
class HttpProblem extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function startUiServer(stores: UiStores, options: { port: number; host: string }): Promise<UiServer> {
  const watchers = new RunWatchers(stores.metadata);
  const loopback = isLoopback(options.host);
  const server = createServer((request, response) => {
    // Bound to loopback, a page of another site reached through a DNS name pointed at
    // 127.0.0.1 (DNS rebinding) must not read runs: only local names are served.
    const host = (request.headers.host ?? "").replace(/:\d+$/, "");
    if (loopback && !["127.0.0.1", "localhost", "[::1]"].includes(host)) {
      return send(response, 421, "text/plain; charset=utf-8", `flowrun ui answers only on localhost, not "${host}"\n`);
    }
    void handle(stores, watchers, request, response).catch((error: unknown) => {
      const problem = error instanceof HttpProblem ? error : new HttpProblem(500, `flowrun ui: ${(error as Error).message}`);
      if (response.headersSent) return void response.end();
      send(response, problem.status, "text/html; charset=utf-8", page(`${problem.status}`, html`<h1>${problem.status}</h1><p class="error">${problem.message}</p>`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shown = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        watchers.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(stores: UiStores, watchers: RunWatchers, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") throw new HttpProblem(405, "flowrun ui is read-only");
  const raw = request.url ?? "/";
  // Refused before any parsing: `..` (or its encodings) never reaches a route.
  if (/(^|[/\\])(\.|%2e){2}([/\\?#]|$)/i.test(raw) || /%2f|%5c|%00/i.test(raw)) throw new HttpProblem(400, "a URL with '..' or encoded separators names nothing here");
  const url = new URL(raw, "http://ui.local");
  let parts: string[];
  try {
    parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new HttpProblem(400, "the URL is not well encoded");
  }
  const [head, ...rest] = parts;

  if (parts.length === 0) return sendHtml(response, await runsListPage(stores, url));
  if (url.pathname === "/favicon.ico") return send(response, 204, "image/x-icon", "");
  if (head === "static" && rest.length === 1 && Object.hasOwn(STATIC, rest[0]!)) {
    const asset = STATIC[rest[0]!]!;
    return send(response, 200, asset.type, readFileSync(asset.file), "public, max-age=300");
  }
  if (head === "api" && rest[0] === "runs" && rest.length === 1) return sendJson(response, await runsJson(stores, url));
  if (head === "runs") return runRoutes(stores, rest, url, response, "page");
  if (head === "api" && rest[0] === "runs") return runRoutes(stores, rest.slice(1), url, response, "fragment");
  if (head === "events" && rest[0] === "runs") return eventRoutes(stores, watchers, rest.slice(1), url, response);
  throw new HttpProblem(404, `nothing at ${url.pathname}`);
}

function runFilters(url: URL): { filters: RunFilters; page: number } {
  const value = (name: string) => url.searchParams.get(name) || undefined;
  const status = value("status");
  if (status && !(RUN_STATUSES as readonly string[]).includes(status)) throw new HttpProblem(400, `status "${status}" is not one of ${RUN_STATUSES.join(", ")}`);
  const flow = value("flow");
  const pageNumber = Number(value("page") ?? "1");
  if (!Number.isSafeInteger(pageNumber) || pageNumber < 1) throw new HttpProblem(400, "page is a number from 1");
  return {
    filters: { flow: flow && checked("flow name", flow), status: status as ObservedRunStatus | undefined, tag: value("tag"), namespace: value("namespace") },
    page: pageNumber,
  };
}

async function runsListPage(stores: UiStores, url: URL): Promise<string> {
  const { filters, page: pageNumber } = runFilters(url);
  return runsPage(await listRunPage(stores.metadata, filters, pageNumber, RUNS_PER_PAGE), filters, url.pathname + url.search);
}

async function runsJson(stores: UiStores, url: URL): Promise<unknown> {
  const { filters, page: pageNumber } = runFilters(url);
  const limit = Number(url.searchParams.get("limit") ?? RUNS_PER_PAGE);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new HttpProblem(400, "limit is a number from 1 to 1000");
  return listRunPage(stores.metadata, filters, pageNumber, limit);
}

/** `<flow>/<runId>[/<step>[/<taskId>[/...]]]` under /runs (pages) or /api/runs (fragments). */
async function runRoutes(stores: UiStores, parts: string[], url: URL, response: ServerResponse, kind: "page" | "fragment"): Promise<void> {
  const [flow, runId, step, taskId, what, name, ...extra] = parts;
  if (!flow || !runId || extra.length > 0) throw new HttpProblem(404, `nothing at ${url.pathname}`);
  const run = await readRun(stores, flow, runId);
  if (kind === "page" && step === undefined) return sendHtml(response, runPage(await runView(stores.metadata, run)));
  if (kind === "fragment" && step === "timeline" && taskId === undefined) return sendFragment(response, runTimeline(await runView(stores.metadata, run)));
  if (step === undefined) throw new HttpProblem(404, `nothing at ${url.pathname}`);
  checked("step name", step);
  if (kind === "page" && taskId === undefined) {
    const offset = Number(url.searchParams.get("offset") ?? 0);
    return sendHtml(response, stepPage(await runView(stores.metadata, run), step, Number.isSafeInteger(offset) && offset >= 0 ? offset : 0));
  }
  if (taskId === undefined) throw new HttpProblem(404, `nothing at ${url.pathname}`);
  const task = await readTask(stores, run, step, taskId);
  if (kind === "page" && what === undefined) return sendHtml(response, await taskPageFor(stores, run, task, url));
  if (kind === "fragment" && what === "card" && name === undefined) return sendFragment(response, (await cardFor(stores, task))?.html ?? html``);
  if (kind === "fragment" && what === "artifacts" && name !== undefined && ARTIFACT_NAME.test(name)) return sendFragment(response, await artifactPreview(stores.content, task, name));
  throw new HttpProblem(404, `nothing at ${url.pathname}`);
}

async function eventRoutes(stores: UiStores, watchers: RunWatchers, parts: string[], url: URL, response: ServerResponse): Promise<void> {
  const [flow, runId, step, taskId, ...extra] = parts;
  if (!flow || !runId || extra.length > 0 || (step !== undefined && taskId === undefined)) throw new HttpProblem(404, `nothing at ${url.pathname}`);
  const run = await readRun(stores, flow, runId);
  if (step === undefined) return watchers.watch(run, response);
  const task = await readTask(stores, run, checked("step name", step), taskId!);
  const count = (name: string) => Math.max(0, Number(url.searchParams.get(name)) || 0);
  followTask(stores.metadata, task, attemptOf(task, url), { stdout: count("stdout"), stderr: count("stderr"), cardAt: url.searchParams.get("card") ?? undefined }, response);
}

async function taskPageFor(stores: UiStores, run: RunRecord, task: TaskRecord, url: URL): Promise<string> {
  const attempt = attemptOf(task, url);
  const logKey = attemptLogKey(task, attempt);
  const [stdout, stderr, card] = await Promise.all([readTaskLog(stores.metadata, logKey, "stdout"), readTaskLog(stores.metadata, logKey, "stderr"), cardFor(stores, task)]);
  return taskPage(run, task, attempt, [stdout, stderr], card);
}

async function cardFor(stores: UiStores, task: TaskRecord): Promise<{ html: SafeHtml; updatedAt: string } | null> {
  const card = await readTaskCard(stores.metadata, stores.content, task);
  return card && { html: await taskCardHtml(stores.content, task, card), updatedAt: card.updatedAt.toISOString() };
}

function attemptOf(task: TaskRecord, url: URL): number {
  const given = url.searchParams.get("attempt");
  if (given === null) return task.attempt;
  const attempt = Number(given);
  if (!Number.isSafeInteger(attempt) || attempt < 0 || attempt > task.attempt) throw new HttpProblem(404, `the task has no attempt ${given}; its attempts are 0 to ${task.attempt}`);
  return attempt;
}

async function readRun(stores: UiStores, flow: string, runId: string): Promise<RunRecord> {
  const run = await stores.metadata.getRun(checked("flow name", flow), checked("run ID", runId));
  if (!run) throw new HttpProblem(404, `no run ${flow}/${runId} in this datastore`);
  return run;
}

async function readTask(stores: UiStores, run: RunRecord, step: string, taskId: string): Promise<TaskRecord> {
  const task = await stores.metadata.getTask(run.flow, run.runId, step, checked("task ID", taskId));
  if (!task) throw new HttpProblem(404, `no task ${run.flow}/${run.runId}/${step}/${taskId}`);
  return task;
}

function checked(kind: Parameters<typeof checkPathspecPart>[0], text: string): string {
  try {
    return checkPathspecPart(kind, text);
  } catch (error) {
    throw new HttpProblem(404, (error as Error).message);
  }
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, cache = "no-store"): void {
  response.writeHead(status, {
    "content-type": type,
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": cache,
  });
  response.end(response.req.method === "HEAD" ? undefined : body);
}

function sendHtml(response: ServerResponse, text: string): void {
  send(response, 200, "text/html; charset=utf-8", text);
}

function sendFragment(response: ServerResponse, fragment: SafeHtml): void {
  send(response, 200, "text/html; charset=utf-8", fragment.text);
}

function sendJson(response: ServerResponse, value: unknown): void {
  send(response, 200, "application/json; charset=utf-8", JSON.stringify(value));
}
