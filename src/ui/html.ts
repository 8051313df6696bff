/**
 * HTML built by a tagged template that escapes everything interpolated into it, unless it is
 * already `SafeHtml` (made by this template or `trustedHtml`): a user's string (an artifact,
 * a log line, a tag) cannot become markup by being forgotten.
 */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Interpolated = SafeHtml | string | number | boolean | null | undefined | readonly Interpolated[];

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** Markup flowrun produced itself (rendered Markdown, a chart's SVG): not escaped again. */
export function trustedHtml(text: string): SafeHtml {
  return new SafeHtml(text);
}

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  if (typeof value === "number") return String(value); // digits, `.`, `-`, `e`: nothing to escape (a timeline has tens of thousands)
  return escapeHtml(String(value));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
