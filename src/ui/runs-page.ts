/** `/`: every run in the datastore, newest first, with filters (flow, status, tag, namespace) and pages. */
import { html } from "./html.js";
import { durationText, formatTime, page, runHref, statusBadge } from "./layout.js";
import { RUN_STATUSES, type RunFilters, type RunListPage } from "./ui-data.js";

export function runsPage(result: RunListPage, filters: RunFilters, location: string): string {
  const select = (name: string, values: readonly string[], selected: string | undefined, all: string) =>
    html`<label>${name} <select name="${name}"><option value="">${all}</option>${values.map(
      (v) => html`<option value="${v}"${v === selected ? html` selected` : null}>${v}</option>`,
    )}</select></label>`;
  const form = html`<form class="filters" method="get" action="/">
${select("flow", result.flows, filters.flow, "all flows")}
${select("status", RUN_STATUSES, filters.status, "any status")}
${select("namespace", result.namespaces, filters.namespace, "all namespaces")}
<label>tag <input name="tag" value="${filters.tag ?? ""}" placeholder="any tag"></label>
<button type="submit">Filter</button></form>`;
  const rows = result.runs.map(
    (r) => html`<tr data-run="${r.flow}/${r.runId}"><td><a href="${runHref(r.flow, r.runId)}">${r.flow}/${r.runId}</a></td><td>${statusBadge(r.status)}</td><td>${r.user}</td><td class="tags">${r.tags.map((t) => html`<span class="tag">${t}</span>`)}</td><td>${formatTime(r.createdAt)}</td><td>${durationText(r.durationMs)}</td></tr>`,
  );
  const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
  const link = (n: number) => {
    const query = new URLSearchParams(location.split("?")[1] ?? "");
    query.set("page", String(n));
    return `/?${query}`;
  };
  const pager = html`<nav class="pager">${result.page > 1 ? html`<a href="${link(result.page - 1)}">← newer</a>` : null}<span>page ${result.page} of ${pages} · ${result.total} runs</span>${result.page < pages ? html`<a href="${link(result.page + 1)}">older →</a>` : null}</nav>`;
  const table = result.runs.length === 0
    ? html`<p class="empty">No runs match. <code>flowrun run flows/Hello.ts</code> makes one.</p>`
    : html`<table class="runs"><thead><tr><th>Run</th><th>Status</th><th>User</th><th>Tags</th><th>Started</th><th>Took</th></tr></thead><tbody>${rows}</tbody></table>`;
  return page("Runs", html`<h1>Runs</h1>${form}${table}${pager}`);
}
