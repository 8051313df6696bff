/**
 * A card's components as HTML, the same in `flowrun ui` and in the file `flowrun card view`
 * writes: Markdown with raw HTML shown as text and only http(s)/mailto links, tables escaped
 * cell by cell, images inline as data: URLs, Vega-Lite charts drawn to SVG here (no script).
 */
import MarkdownIt from "markdown-it";
import type { CardComponentData, CardData, TableCell } from "../core/flow/cards.js";
import { html, trustedHtml, type SafeHtml } from "./html.js";
import { vegaLiteToSvg } from "./vega-svg.js";

/** A card is a report to read: a table longer than this is shown in part. */
const TABLE_ROWS_SHOWN = 1000;

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });
markdown.validateLink = (url: string) => /^(https?:|mailto:|#)/i.test(url.trim());

export async function cardHtml(card: CardData): Promise<SafeHtml> {
  const parts = await Promise.all(card.components.map(componentHtml));
  return html`<div class="card">${parts}</div>`;
}

async function componentHtml(component: CardComponentData): Promise<SafeHtml> {
  switch (component.type) {
    case "markdown":
      return html`<div class="card-markdown">${trustedHtml(markdown.render(String(component.text)))}</div>`;
    case "table": {
      const rows = component.rows.slice(0, TABLE_ROWS_SHOWN);
      const cells = await Promise.all(rows.map((row) => Promise.all(row.map(cellHtml))));
      const head = component.headers.length > 0 ? html`<thead><tr>${component.headers.map((h) => html`<th>${h}</th>`)}</tr></thead>` : null;
      const more = component.rows.length > rows.length ? html`<p class="summary">the first ${rows.length} of ${component.rows.length.toLocaleString("en-US")} rows</p>` : null;
      return html`<table class="card-table">${head}<tbody>${cells.map((row) => html`<tr>${row.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>${more}`;
    }
    case "image": {
      const mime = component.mimeType === "image/jpeg" ? "image/jpeg" : "image/png";
      const src = `data:${mime};base64,${Buffer.from(component.bytes).toString("base64")}`;
      return html`<figure class="card-image"><img src="${src}" alt="${component.label ?? ""}">${component.label ? html`<figcaption>${component.label}</figcaption>` : null}</figure>`;
    }
    case "vegalite":
      try {
        return html`<figure class="card-chart">${trustedHtml(await vegaLiteToSvg(component.spec))}</figure>`;
      } catch (error) {
        return html`<p class="error">chart not drawn: ${(error as Error).message}</p>`;
      }
    case "progressbar": {
      const percent = component.max > 0 ? Math.round((component.value / component.max) * 100) : 0;
      return html`<div class="card-progress"><label>${component.label ?? ""} <progress value="${component.value}" max="${component.max}"></progress> ${component.value} / ${component.max} (${percent}%)</label></div>`;
    }
    default:
      return html`<p class="error">unknown card component ${JSON.stringify((component as { type?: unknown }).type)}</p>`;
  }
}

async function cellHtml(cell: TableCell): Promise<SafeHtml> {
  if (cell !== null && typeof cell === "object") return componentHtml(cell);
  return html`${cell === null ? "" : String(cell)}`;
}
