/** The frame of every page of `flowrun ui`: the stylesheet and script it serves itself, a header, the content. */
import { formatDuration } from "../core/format-duration.js";
import { html, type SafeHtml } from "./html.js";

export function page(title: string, body: SafeHtml, crumbs: ReadonlyArray<{ label: string; href?: string }> = []): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · flowrun</title><link rel="stylesheet" href="/static/style.css"><script src="/static/app.js" defer></script></head>
<body><header class="top"><a class="brand" href="/">flowrun</a><nav class="crumbs">${crumbs.map((c) => (c.href ? html`<a href="${c.href}">${c.label}</a>` : html`<span>${c.label}</span>`))}</nav></header>
<main>${body}</main></body></html>`.text;
}

export function runHref(flow: string, runId: string): string {
  return `/runs/${flow}/${runId}`;
}

export function taskHref(flow: string, runId: string, step: string, taskId: string): string {
  return `/runs/${flow}/${runId}/${step}/${taskId}`;
}

/** A duration, or nothing when there is none (a task still running). */
export function durationText(ms: number | undefined): string {
  return ms === undefined ? "" : formatDuration(ms);
}

export function formatTime(iso: string | undefined): string {
  return iso ? iso.replace("T", " ").slice(0, 19) : "";
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="status status-${status}">${status}</span>`;
}
