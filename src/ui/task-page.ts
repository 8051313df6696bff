/**
 * `/runs/<flow>/<runId>/<step>/<taskId>`: a task's status and attempts, its exception with the
 * user's source line, its output (followed live while it runs, searchable), its card, and its
 * artifacts, each previewed when opened.
 */
import type { LogStream, MetadataStore } from "../../runtime/metadata/metadata-store.js";
import type { RunRecord, TaskRecord } from "../../runtime/metadata/records.js";
import { html, type SafeHtml } from "./html.js";
import { durationText, formatTime, page, runHref, statusBadge, taskHref } from "./layout.js";
import { megabytes } from "./artifact-preview.js";

/** The most of a stream a page carries: its end (a long log's start is what `flowrun logs` is for). */
const LOG_PAGE_CHARS = 1_000_000;

export interface TaskLog {
  stream: LogStream;
  text: string;
  /** Chunks read: live updates continue from there. */
  chunks: number;
  /** Characters left out at the start. */
  omitted: number;
}

export async function readTaskLog(metadata: MetadataStore, logKey: string, stream: LogStream): Promise<TaskLog> {
  let text = "";
  let chunks = 0;
  let omitted = 0;
  for await (const chunk of metadata.streamLog(logKey, stream)) {
    chunks++;
    text += chunk;
    if (text.length > 2 * LOG_PAGE_CHARS) {
      omitted += text.length - LOG_PAGE_CHARS;
      text = text.slice(-LOG_PAGE_CHARS);
    }
  }
  if (text.length > LOG_PAGE_CHARS) {
    omitted += text.length - LOG_PAGE_CHARS;
    text = text.slice(-LOG_PAGE_CHARS);
  }
  return { stream, text, chunks, omitted };
}

export function taskPage(run: RunRecord, task: TaskRecord, attempt: number, logs: TaskLog[], card: { html: SafeHtml; updatedAt: string } | null): string {
  const pathspec = `${task.flow}/${task.runId}/${task.step}/${task.taskId}`;
  const base = taskHref(task.flow, task.runId, task.step, task.taskId);
  const live = task.status === "running" && attempt === task.attempt;
  const events = new URLSearchParams({ attempt: String(attempt), ...Object.fromEntries(logs.map((log) => [log.stream, String(log.chunks)])), ...(card && { card: card.updatedAt }) });
  const attempts = Array.from({ length: task.attempt + 1 }, (_, a) =>
    a === attempt ? html`<strong>attempt ${a}</strong>` : html`<a href="${base}?attempt=${a}">attempt ${a}</a>`,
  );
  const exception = task.exception && attempt === task.attempt
    ? html`<section class="error-box"><h2>Exception</h2><p class="exception">${task.exception.name}: ${task.exception.message}</p>
${task.exception.source ? html`<p>at <code class="source">${task.exception.source}</code></p>` : null}
${task.exception.stack ? html`<details><summary>stack</summary><pre>${task.exception.stack}</pre></details>` : null}</section>`
    : null;
  const earlier = task.earlierAttempts?.find((a) => a.attempt === attempt);
  const artifacts = Object.entries(task.artifacts ?? {});
  const body = html`<section class="task-head"${live ? html` data-events="/events${base}?${events.toString()}"` : null} data-task-status="${task.status}">
<h1>${pathspec} <span id="task-status">${statusBadge(task.status)}</span></h1>
<dl class="facts"><dt>started</dt><dd>${formatTime(task.startedAt)}</dd><dt>took</dt><dd>${task.status === "running" ? "still running" : durationText(task.durationMs)}</dd>
${task.dispatchedAt ? html`<dt>waited</dt><dd>${durationText(Math.max(0, Date.parse(task.startedAt) - Date.parse(task.dispatchedAt)))}</dd>` : null}
${task.worker ? html`<dt>worker</dt><dd>${task.worker}</dd>` : null}
${task.clonedFrom ? html`<dt>cloned from</dt><dd><a href="${"/runs/" + task.clonedFrom}">${task.clonedFrom}</a></dd>` : null}
<dt>after</dt><dd>${task.parents.length === 0 ? "(start)" : task.parents.slice(0, 10).map((p) => html`<a href="${"/runs/" + p}">${p.split("/").slice(2).join("/")}</a> `)}${task.parents.length > 10 ? ` and ${task.parents.length - 10} more` : ""}</dd>
<dt>attempts</dt><dd class="attempts">${attempts}</dd></dl></section>
${exception}${earlier?.error ? html`<section class="error-box"><p class="exception">${earlier.error}</p></section>` : null}
<section class="logs"><h2>Output</h2>${logs.map(logPane)}</section>
<section class="card-box"${card ? null : html` hidden`}><h2>Card</h2><div id="card" data-src="/api${base}/card">${card?.html}</div></section>
<section class="artifacts"><h2>Artifacts</h2>${artifacts.length === 0 ? html`<p class="empty">${task.status === "succeeded" ? "none" : "a task's artifacts are stored when it succeeds"}</p>` : html`<table class="artifacts"><thead><tr><th>Name</th><th>Size</th><th>Preview</th></tr></thead><tbody>${artifacts.map(
    ([name, ref]) => html`<tr data-artifact="${name}"><td><code>${name}</code></td><td>${megabytes(ref.size)}</td><td><details class="preview" data-src="/api${base}/artifacts/${name}"><summary>show</summary><div class="preview-body">loading…</div></details></td></tr>`,
  )}</tbody></table>`}</section>`;
  return page(pathspec, body, [
    { label: run.flow, href: `/?flow=${encodeURIComponent(run.flow)}` },
    { label: run.runId, href: runHref(run.flow, run.runId) },
    { label: task.step, href: `${runHref(run.flow, run.runId)}/${task.step}` },
    { label: task.taskId },
  ]);
}

function logPane(log: TaskLog): SafeHtml {
  const lines = log.text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return html`<div class="log-pane"><h3>${log.stream}</h3><input type="search" class="log-search" placeholder="search ${log.stream}" data-target="log-${log.stream}"> <span class="log-matches"></span>
${log.omitted > 0 ? html`<p class="summary">the first ${log.omitted.toLocaleString("en-US")} characters are not shown; <code>flowrun logs</code> prints all</p>` : null}
${log.text === "" ? html`<p class="summary log-empty">no output</p>` : null}<pre class="log${log.text === "" ? " empty-log" : ""}" id="log-${log.stream}" data-stream="${log.stream}" data-chunks="${log.chunks}" data-open="${log.text !== "" && !log.text.endsWith("\n") ? "1" : "0"}">${lines.map((line) => html`<div class="line">${line}</div>`)}</pre></div>`;
}
