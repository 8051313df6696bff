/** One artifact of a task, previewed: decoded only up to PREVIEW_MAX_BYTES, and then shown in part (value-preview.ts). */
import type { ContentStore } from "../../runtime/datastore/content-store.js";
import type { TaskRecord } from "../../runtime/metadata/records.js";
import { html, type SafeHtml } from "./html.js";
import { previewValue } from "./value-preview.js";

const PREVIEW_MAX_BYTES = 64 * 1024 * 1024;

export async function artifactPreview(content: ContentStore, task: TaskRecord, name: string): Promise<SafeHtml> {
  const ref = Object.hasOwn(task.artifacts ?? {}, name) ? task.artifacts![name] : undefined;
  const pathspec = `${task.flow}/${task.runId}/${task.step}/${task.taskId}`;
  if (!ref) return html`<p class="error">${pathspec} has no artifact '${name}'</p>`;
  if (ref.size > PREVIEW_MAX_BYTES) {
    return html`<p class="summary">${megabytes(ref.size)}: too large to preview here; <code>flowrun dump ${pathspec} --artifact ${name}</code> prints it</p>`;
  }
  try {
    return await previewValue(await content.load(ref, `${pathspec} artifact '${name}'`));
  } catch (error) {
    return html`<p class="error">could not read '${name}': ${(error as Error).message}</p>`;
  }
}

export function megabytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
