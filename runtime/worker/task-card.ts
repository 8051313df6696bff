/**
 * `current.card` inside a task: the components the step appends, stored like an artifact
 * (content-addressed, so an unchanged card costs nothing to store again). `refresh()` stores
 * the card while the task runs, at most once per REFRESH_MS (a refresh in between is stored
 * when that time is up); `finish()` stores it when the attempt ends, for its task record.
 */
import { cardData, checkComponent, type CardComponent, type CardData, type TaskCard } from "../../src/core/flow/cards.js";
import type { ContentStore } from "../datastore/content-store.js";
import type { MetadataStore } from "../metadata/metadata-store.js";
import type { StoredCard, TaskRecord } from "../metadata/records.js";

const REFRESH_MS = 1000;

export class TaskCardCollector implements TaskCard {
  private list: CardComponent[] = [];
  private lastStored = 0;
  private refreshed = false;
  private trailing: NodeJS.Timeout | undefined;
  private storing: Promise<void> = Promise.resolve();

  constructor(
    private readonly type: StoredCard["type"] | undefined,
    private readonly task: Pick<TaskRecord, "flow" | "runId" | "step" | "taskId" | "attempt">,
    private readonly content: ContentStore,
    private readonly metadata: MetadataStore,
    /** Where a failed refresh is reported (the task's stderr): a live card is not worth failing the task for. */
    private readonly warn: (text: string) => void,
  ) {}

  append(component: CardComponent): void {
    checkComponent(component);
    this.list.push(component);
  }

  extend(components: Iterable<CardComponent>): void {
    for (const component of components) this.append(component);
  }

  clear(): void {
    this.list = [];
  }

  get components(): readonly CardComponent[] {
    return [...this.list];
  }

  async refresh(): Promise<void> {
    this.refreshed = true;
    const wait = this.lastStored + REFRESH_MS - Date.now();
    if (wait > 0) {
      // When it fires it asks again: the clock timers count by is not Date.now()'s.
      this.trailing ??= setTimeout(() => {
        this.trailing = undefined;
        void this.refresh();
      }, wait).unref();
      return;
    }
    // This store has what a deferred one would have stored (a step busy past its moment).
    clearTimeout(this.trailing);
    this.trailing = undefined;
    await this.storeLive();
  }

  /** The card as the attempt ends it, stored; undefined for a task without `@card` that appended nothing. */
  async finish(): Promise<StoredCard | undefined> {
    clearTimeout(this.trailing);
    await this.storing;
    if (!this.type && this.list.length === 0 && !this.refreshed) return undefined;
    return this.stored();
  }

  /** Stores the card as it is now (its data is taken at once; the write may wait for the one before). */
  private storeLive(): Promise<void> {
    this.lastStored = Date.now();
    const card = this.snapshot();
    this.storing = this.storing
      .then(async () => this.metadata.putLiveCard(this.task, this.task.attempt, await this.stored(card)))
      .catch((error: unknown) => this.warn(`note: the card could not be refreshed: ${(error as Error).message}\n`));
    return this.storing;
  }

  private snapshot(): { data?: CardData; at: Date } {
    return { data: this.list.length > 0 ? cardData(this.list) : undefined, at: new Date() };
  }

  private async stored({ data, at } = this.snapshot()): Promise<StoredCard> {
    const ref = data && (await this.content.save("current.card", data));
    return { type: this.type ?? "blank", ...(ref && { ref }), updatedAt: at.toISOString() };
  }
}
