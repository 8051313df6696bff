/**
 * Inside a task: the flow object's artifacts. Each input artifact becomes a lazy accessor
 * on the instance: nothing is read until the step touches it, and an artifact the step
 * neither reads nor assigns passes to the output by ref (no decode, no re-encode, no write).
 * An artifact the step only read may have been mutated in place, so it is re-encoded and
 * keeps its old ref when the bytes hash the same.
 */
import { ArtifactError } from "../../src/core/errors.js";
import { unreadable } from "../datastore/artifact-codec.js";
import type { ArtifactRef, ContentStore } from "../datastore/content-store.js";
import type { SourceLocation } from "../../src/core/graph/types.js";
import type { StepSource } from "../protocol.js";

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
    private readonly source?: StepSource,
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
      saves.push(this.store.save(name, value).then((ref) => void (out[name] = ref), (error) => this.rethrow(error, name)));
    }
    await Promise.all(saves);
    return out;
  }

  /** An own field's value; an enumerable getter the step defined is read once, here, and its value stored. */
  private read(flow: object, name: string): unknown {
    try {
      return (flow as Record<string, unknown>)[name];
    } catch (error) {
      return this.rethrow(unreadable([name], error), name);
    }
  }

  /**
   * The artifact's error, naming the line of the step that assigned it (else the step's
   * own line). Its stack is that line alone: the step has returned, and flowrun's frames
   * would say nothing about where the value came from.
   */
  private rethrow(error: unknown, name: string): never {
    if (!(error instanceof ArtifactError)) throw error;
    const at = this.source && placeOf(this.source, name);
    const located = new ArtifactError(at ? `${error.message} (${at.text})` : error.message, { where: this.pathspec, hint: error.hint });
    if (at) located.stack = `ArtifactError: ${located.message}\n    at ${this.source!.step} (${at.loc.file}:${at.loc.line}:${at.loc.column})`;
    throw located;
  }
}

/** `assigned in step train at file:18` (`, :24` for each further assignment), else `in step train at file:12`. */
function placeOf(source: StepSource, name: string): { text: string; loc: SourceLocation } {
  const assigned = Object.hasOwn(source.assignments, name) ? source.assignments[name]! : [];
  const first = assigned[0];
  if (!first) return { text: `in step ${source.step} at ${source.loc.file}:${source.loc.line}`, loc: source.loc };
  const more = assigned.slice(1, 3).map((loc) => `, :${loc.line}`).join("") + (assigned.length > 3 ? ", ..." : "");
  return { text: `assigned in step ${source.step} at ${first.file}:${first.line}${more}`, loc: first };
}
