/**
 * Inside a task: the flow object's artifacts. Each input artifact becomes a lazy accessor
 * on the instance: nothing is read until the step touches it, and an artifact the step
 * neither reads nor assigns passes to the output by ref (no decode, no re-encode, no write).
 * An artifact the step only read may have been mutated in place, so it is re-encoded and
 * keeps its old ref when the bytes hash the same.
 */
import { ArtifactError } from "../../src/errors.js";
import { unreadable } from "../datastore/artifact-codec.js";
import type { ArtifactRef, ContentStore } from "../datastore/content-store.js";

type SlotState = "untouched" | "read" | "assigned";

interface Slot {
  ref?: ArtifactRef;
  state: SlotState;
  value?: unknown;
}

export class ArtifactSlots {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly store: ContentStore,
    private readonly pathspec: string,
  ) {}

  /** Makes `flow[name]` a lazy view of the input artifact `ref`; `refuseAssign` makes it read-only. */
  define(flow: object, name: string, ref: ArtifactRef, refuseAssign?: () => Error): void {
    const slot: Slot = { ref, state: "untouched" };
    this.slots.set(name, slot);
    Object.defineProperty(flow, name, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (slot.state === "untouched") {
          slot.value = this.store.loadSync(slot.ref!, `${this.pathspec} artifact '${name}'`);
          slot.state = "read";
        }
        return slot.value;
      },
      set: (value: unknown) => {
        if (refuseAssign) throw refuseAssign();
        slot.value = value;
        slot.state = "assigned";
      },
    });
  }

  defines(name: string): boolean {
    return this.slots.has(name);
  }

  /** The refs of every artifact the task ends with, saving new and changed values. */
  async collect(flow: object, initial: ReadonlyMap<string, unknown>): Promise<Record<string, ArtifactRef>> {
    const out: Record<string, ArtifactRef> = {};
    const saves: Array<Promise<void>> = [];
    for (const name of Object.keys(flow)) {
      if (name.startsWith("_")) continue;
      const slot = this.slots.get(name);
      if (slot && slot.state === "untouched") {
        out[name] = slot.ref!;
        continue;
      }
      const value = slot ? slot.value : this.read(flow, name);
      // A class field initialiser the step never changed is not an artifact.
      if (!slot && initial.has(name) && initial.get(name) === value) continue;
      saves.push(this.store.save(name, value).then((ref) => void (out[name] = ref), (error) => this.rethrow(error)));
    }
    await Promise.all(saves);
    return out;
  }

  /** An own field's value; an enumerable getter the step defined is read once, here, and its value stored. */
  private read(flow: object, name: string): unknown {
    try {
      return (flow as Record<string, unknown>)[name];
    } catch (error) {
      return this.rethrow(unreadable([name], error));
    }
  }

  private rethrow(error: unknown): never {
    if (error instanceof ArtifactError) throw new ArtifactError(error.message, { where: this.pathspec, hint: error.hint });
    throw error;
  }
}
