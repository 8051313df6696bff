/**
 * A task's card as shown (in `flowrun ui` and in `flowrun card view`'s file): its components,
 * then, for a `@card` of type `default`, the task's artifacts with a preview of each.
 */
import type { ContentStore } from "../../runtime/datastore/content-store.js";
import type { TaskRecord } from "../../runtime/metadata/records.js";
import type { TaskCardContent } from "../client/task-card.js";
import { cardHtml } from "./card-html.js";
import { html, type SafeHtml } from "./html.js";
import { artifactPreview } from "./artifact-preview.js";

export async function taskCardHtml(content: ContentStore, task: TaskRecord, card: TaskCardContent): Promise<SafeHtml> {
  const components = await cardHtml({ components: card.components });
  if (card.type !== "default") return components;
  const names = Object.keys(task.artifacts ?? {}).filter((name) => !name.startsWith("_"));
  const previews = await Promise.all(names.map((name) => artifactPreview(content, task, name)));
  const artifacts = names.map((name, i) => html`<section class="card-artifact"><h3>${name}</h3>${previews[i]}</section>`);
  return html`${components}${names.length > 0 ? html`<div class="card-artifacts"><h2>Artifacts</h2>${artifacts}</div>` : null}`;
}
