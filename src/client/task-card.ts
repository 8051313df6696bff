/** Reading a task's card back: what `task.card()`, `flowrun card view` and the web UI show. */
import type { ContentStore } from "../../runtime/datastore/content-store.js";
import type { MetadataStore } from "../../runtime/metadata/metadata-store.js";
import type { StoredCard, TaskRecord } from "../../runtime/metadata/records.js";
import type { CardComponentData, CardData } from "../core/flow/cards.js";

export interface TaskCardContent {
  /** `default`: the step had `@card`, and the card lists the task's artifacts after its components. */
  type: StoredCard["type"];
  components: CardComponentData[];
  /** When it was stored: the end of the attempt, or a running task's last `refresh()`. */
  updatedAt: Date;
}

export async function readTaskCard(metadata: MetadataStore, content: ContentStore, task: TaskRecord): Promise<TaskCardContent | null> {
  const stored = await metadata.taskCard(task);
  if (!stored) return null;
  const where = `${task.flow}/${task.runId}/${task.step}/${task.taskId} card`;
  const data = stored.ref ? ((await content.load(stored.ref, where)) as CardData) : { components: [] };
  return { type: stored.type, components: data.components, updatedAt: new Date(stored.updatedAt) };
}
