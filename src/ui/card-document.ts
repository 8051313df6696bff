/**
 * The file `flowrun card view` writes: one HTML document with everything inside it (styles
 * inline, images as data: URLs, charts as SVG, no script), to open offline, mail, or attach.
 * Its own Content-Security-Policy forbids scripts and any outside resource.
 */
import { readFileSync } from "node:fs";
import { html, trustedHtml, type SafeHtml } from "./html.js";

const STYLE = new URL("./static/style.css", import.meta.url);
const POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

export function cardDocument(title: string, card: SafeHtml, subtitle: string): string {
  const css = readFileSync(STYLE, "utf8").replace(/<\//g, "<\\/");
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${trustedHtml(POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${trustedHtml(css)}</style></head>
<body><main><h1>${title}</h1><p class="summary">${subtitle}</p>${card}</main></body></html>
`.text;
}
