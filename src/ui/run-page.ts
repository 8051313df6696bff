/**
 * `/runs/<flow>/<runId>`: the run's status, parameters and tags, its DAG with each step's
 * counts, and its timeline; `/runs/<flow>/<runId>/<step>`: the step's tasks. While the run
 * goes, the page follows it over server-sent events (see run-events.ts).
 */
import type { TaskRecord } from "../../runtime/metadata/records.js";
import { dagSvg } from "./dag-svg.js";
import { html, type SafeHtml } from "./html.js";
import { durationText, formatTime, page, runHref, statusBadge, taskHref } from "./layout.js";
import { timelineSvg } from "./timeline-svg.js";
import { runDurationMs, type RunView } from "./ui-data.js";
import { scalarText } from "./value-preview.js";

export function runPage(view: RunView): string {
  const { record, status } = view;
  const base = runHref(record.flow, record.runId);
  const error = record.error
    ? html`<section class="error-box"><h2>Failed</h2><p>${record.error.pathspec ? html`<a href="${taskLink(record.error.pathspec)}">${record.error.pathspec}</a>: ` : null}${record.error.name}: ${record.error.message}</p></section>`
    : null;
  const parameters = Object.entries(record.parameters);
  const body = html`<section class="run-head" data-events="/events${base}" data-run-status="${status}">
<h1>${record.flow}/${record.runId} <span id="run-status">${statusBadge(status)}</span></h1>
<dl class="facts"><dt>user</dt><dd>${record.user}</dd><dt>started</dt><dd>${formatTime(record.createdAt)}</dd><dt>took</dt><dd id="run-took">${durationText(runDurationMs(record))}</dd>
${record.originRunId ? html`<dt>resumed from</dt><dd><a href="${runHref(record.flow, record.originRunId)}">${record.originRunId}</a>${record.resumeStep ? ` at ${record.resumeStep}` : ""}</dd>` : null}
<dt>tags</dt><dd class="tags">${[...record.systemTags, ...record.tags].map((t) => html`<span class="tag">${t}</span>`)}</dd></dl>
${parameters.length > 0 ? html`<table class="parameters"><thead><tr><th>Parameter</th><th>Value</th></tr></thead><tbody>${parameters.map(([k, v]) => html`<tr><td>${k}</td><td><code>${scalarText(v)}</code></td></tr>`)}</tbody></table>` : null}
</section>${error}
<div class="run-body"><section class="graph"><h2>Steps</h2>${dagSvg(view.graph, view.steps, (step) => `${base}/${step}`)}${cardLinks(view)}</section>
<section class="timeline-box"><h2>Timeline</h2><p class="legend"><span class="key wait"></span> waiting for a worker <span class="key run"></span> running <span class="key failed"></span> failed attempt</p>
<div id="timeline" data-src="/api${base}/timeline">${runTimeline(view)}</div></section></div>`;
  return page(`${record.flow}/${record.runId}`, body, [{ label: record.flow, href: `/?flow=${encodeURIComponent(record.flow)}` }, { label: record.runId }]);
}

const CARD_LINKS = 20;

/** The tasks that have a card, to open from the run (the first CARD_LINKS; a step's page lists the rest). */
function cardLinks(view: RunView): SafeHtml | null {
  const withCards = view.tasks.filter((t) => t.card).sort((a, b) => Number(a.taskId) - Number(b.taskId));
  if (withCards.length === 0) return null;
  const shown = withCards.slice(0, CARD_LINKS).map((t) => html`<li><a href="${taskHref(t.flow, t.runId, t.step, t.taskId)}#card">${t.step}/${t.taskId}</a></li>`);
  return html`<h2>Cards</h2><ul class="card-links">${shown}${withCards.length > CARD_LINKS ? html`<li>and ${withCards.length - CARD_LINKS} more</li>` : null}</ul>`;
}

export function runTimeline(view: RunView): SafeHtml {
  return timelineSvg(view.graph, view.tasks, Date.parse(view.record.createdAt), view.status === "running" ? Date.now() : Date.parse(view.record.finishedAt ?? view.record.createdAt));
}

const STEP_PAGE_TASKS = 500;

export function stepPage(view: RunView, step: string, offset: number): string {
  const { record } = view;
  const tasks = view.tasks.filter((t) => t.step === step).sort((a, b) => Number(a.taskId) - Number(b.taskId));
  const shown = tasks.slice(offset, offset + STEP_PAGE_TASKS);
  const summary = view.steps.find((s) => s.name === step);
  const rows = shown.map(
    (t) => html`<tr><td><a href="${taskHref(t.flow, t.runId, t.step, t.taskId)}">${t.taskId}</a></td><td>${foreachIndex(t)}</td><td>${statusBadge(t.status)}</td><td>${t.attempt}</td><td>${formatTime(t.startedAt)}</td><td>${durationText(t.durationMs)}</td></tr>`,
  );
  const more = tasks.length > offset + STEP_PAGE_TASKS ? html`<p><a href="?offset=${offset + STEP_PAGE_TASKS}">next ${STEP_PAGE_TASKS} tasks →</a></p>` : null;
  const body = html`<h1>${step}</h1><p>${summary ? `${summary.done} of ${summary.total} tasks done, ${summary.failed} failed, ${summary.running} running` : "no tasks"}</p>
<table class="tasks"><thead><tr><th>Task</th><th>Index</th><th>Status</th><th>Attempt</th><th>Started</th><th>Took</th></tr></thead><tbody>${rows}</tbody></table>${more}`;
  return page(`${record.flow}/${record.runId}/${step}`, body, [
    { label: record.flow, href: `/?flow=${encodeURIComponent(record.flow)}` },
    { label: record.runId, href: runHref(record.flow, record.runId) },
    { label: step },
  ]);
}

function foreachIndex(task: TaskRecord): string {
  return task.foreachStack.filter((f) => f.kind === "foreach").map((f) => f.index).join(".");
}

function taskLink(pathspec: string): string {
  const [flow, runId, step, taskId] = pathspec.split("/");
  return taskHref(flow!, runId!, step!, taskId!);
}
