/**
 * Matches splits to joins the way Metaflow's graph.py does: walk the graph from `start`
 * carrying the stack of splits (and foreaches) open along the path; a split or foreach
 * pushes itself, a join pops the innermost one. Everything else follows from comparing
 * the stacks that arrive at a step:
 *
 * - a normal step must be reached with the same stack from every parent (branches of a
 *   switch converge freely: a switch pushes nothing, so their stacks agree);
 * - all parents of a join must share the split on top and everything below it, and the
 *   branches of one static split must all end in that same join;
 * - a step with no successor must be reached with nothing left open.
 *
 * Frames remember which branch a path took, which is what tells "two branches of a split
 * meet in a step that is not a join" apart from "a switch's cases meet again".
 */
import { graphError, transitionLoc } from "./issue.js";
import type { FlowGraph, GraphIssue, StepNode } from "./types.js";

interface Frame {
  split: string;
  branch: string;
}
type Stack = readonly Frame[];
interface Arrival {
  from: string;
  stack: Stack;
}

export interface SplitAnalysis {
  /** Steps reachable from `start`. */
  reached: Set<string>;
  /** `StepNode.splitParents` of every reached step. */
  splitParents: Map<string, string[]>;
  /** Split or foreach step -> the join that closes it. */
  matchingJoin: Map<string, string>;
  /** `no-join`, `join-mismatch`, `branch-mismatch` errors; meaningful only when every edge is known. */
  issues: GraphIssue[];
}

export function analyzeSplits(graph: FlowGraph): SplitAnalysis {
  const { steps } = graph;
  const out: SplitAnalysis = { reached: new Set(), splitParents: new Map(), matchingJoin: new Map(), issues: [] };
  if (!steps.has("start")) return out;

  // Breadth-first, so the first path to reach a step is a shortest one and loops closed by
  // a switch are compared against the way in rather than defining it.
  const entry = new Map<string, Stack>([["start", []]]);
  // `from: ""` stands for the run beginning at `start`, so a loop back to `start` is compared with it.
  const arrivals = new Map<string, Arrival[]>([["start", [{ from: "", stack: [] }]]]);
  const queue = ["start"];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const node = steps.get(name)!;
    const running = runningStack(node, entry.get(name)!);
    for (const child of node.next) {
      if (!steps.has(child)) continue;
      const stack = opensSplit(node) ? [...running, { split: name, branch: child }] : running;
      if (!arrivals.has(child)) arrivals.set(child, []);
      arrivals.get(child)!.push({ from: name, stack });
      if (!entry.has(child)) {
        entry.set(child, stack);
        queue.push(child);
      }
    }
  }

  const check = new Checker(graph, out.issues);
  const claims = new Map<string, { join: string; branches: Set<string> }[]>();
  for (const [name, list] of arrivals) {
    const node = steps.get(name)!;
    if (!node.isJoin) {
      check.converging(node, list);
      continue;
    }
    const closed = check.join(node, list);
    if (closed) {
      if (!claims.has(closed)) claims.set(closed, []);
      claims.get(closed)!.push({ join: name, branches: new Set(list.map((a) => a.stack.at(-1)!.branch)) });
    }
  }
  for (const [name, stack] of entry) {
    const node = steps.get(name)!;
    const left = runningStack(node, stack).at(-1);
    if (node.next.length === 0 && left) {
      check.noJoin(left.split, `it is still open when \`${name}\` ends the flow`);
    }
  }
  for (const name of entry.keys()) {
    const node = steps.get(name)!;
    if (!opensSplit(node)) continue;
    const join = check.splitJoins(node, claims.get(name) ?? []);
    if (join) out.matchingJoin.set(name, join);
  }

  for (const [name, stack] of entry) {
    out.reached.add(name);
    out.splitParents.set(name, stack.map((f) => f.split));
  }
  return out;
}

function opensSplit(node: StepNode): boolean {
  return node.kind === "split" || node.kind === "foreach";
}

/** The splits open while a step runs: a join has closed the innermost one. */
function runningStack(node: StepNode, entry: Stack): Stack {
  return node.isJoin ? entry.slice(0, -1) : entry;
}

function via(a: Arrival): string {
  return a.from ? `from \`${a.from}\`` : "as the first step";
}

function names(list: string[]): string {
  return list.map((n) => `\`${n}\``).join(", ");
}

function sameStack(a: Stack, b: Stack): boolean {
  return a.length === b.length && a.every((f, i) => f.split === b[i]!.split && f.branch === b[i]!.branch);
}

/** Emits each split's problem once: one mistake in a flow should read as one error. */
class Checker {
  private readonly reported = new Set<string>();
  /** Splits whose branches reach a join that was already reported as mismatched. */
  private readonly mismatched = new Set<string>();

  constructor(
    private readonly graph: FlowGraph,
    private readonly issues: GraphIssue[],
  ) {}

  converging(node: StepNode, list: Arrival[]): void {
    const [first, ...rest] = list;
    const other = rest.find((a) => !sameStack(a.stack, first!.stack));
    if (!first || !other) return;
    const level = first.stack.findIndex((f, i) => f.split === other.stack[i]?.split && f.branch !== other.stack[i]?.branch);
    const sameSplits =
      first.stack.length === other.stack.length && first.stack.every((f, i) => f.split === other.stack[i]!.split);
    if (sameSplits && level !== -1) {
      const split = first.stack[level]!.split;
      const branches = `\`${first.stack[level]!.branch}\` and \`${other.stack[level]!.branch}\``;
      this.noJoin(split, `its branches ${branches} meet in \`${node.name}\`, which is not a join step`, node.name);
      return;
    }
    this.issues.push(
      graphError(
        "branch-mismatch",
        transitionLoc(this.step(other.from)),
        `step \`${node.name}\` is reached ${via(first)} ${this.inside(first.stack)} ` +
          `but ${via(other)} ${this.inside(other.stack)}`,
        "every path into a step must be inside the same splits and foreaches: join a split before leaving it",
      ),
    );
  }

  /** Checks the parents of a join; returns the split it closes when they agree. */
  join(node: StepNode, list: Arrival[]): string | undefined {
    const bare = list.find((a) => a.stack.length === 0);
    if (bare) {
      this.issues.push(
        graphError(
          "join-mismatch",
          node.loc,
          `step \`${node.name}\` takes \`inputs\`, so it is a join, but it is reached ${via(bare)} with no split or foreach open`,
          'remove the `inputs` parameter, or branch before it: this.next(this.a, this.b) or this.next(this.body, { foreach: "items" })',
        ),
      );
      return undefined;
    }
    const [first, ...rest] = list;
    const other = rest.find(
      (a) => a.stack.at(-1)!.split !== first!.stack.at(-1)!.split || !sameStack(a.stack.slice(0, -1), first!.stack.slice(0, -1)),
    );
    if (other) {
      for (const a of list) this.mismatched.add(a.stack.at(-1)!.split);
      this.issues.push(
        graphError(
          "join-mismatch",
          node.loc,
          `join \`${node.name}\` gets inputs from unrelated branches: ${via(first!)} ${this.inside(first!.stack)} ` +
            `and ${via(other)} ${this.inside(other.stack)}`,
          "a join closes the innermost open split or foreach: join the inner branches first, then the outer ones",
        ),
      );
      return undefined;
    }
    return first!.stack.at(-1)!.split;
  }

  /** Checks that a split's branches end in exactly one join, and returns it. */
  splitJoins(split: StepNode, claims: { join: string; branches: Set<string> }[]): string | undefined {
    if (claims.length === 0) {
      if (!this.mismatched.has(split.name)) this.noJoin(split.name, "no join step closes it");
      return undefined;
    }
    if (claims.length > 1 && !this.reported.has(split.name)) {
      this.reported.add(split.name);
      const second = this.step(claims[1]!.join);
      this.issues.push(
        graphError(
          "join-mismatch",
          second.loc,
          `the branches of the ${this.kindOf(split.name)} in \`${split.name}\` end in different joins: ` +
            claims.map((c) => `\`${c.join}\` (from ${names([...c.branches])})`).join(" and "),
          "every branch of a split must end in the same join step",
        ),
      );
    }
    const [{ join, branches }] = claims as [{ join: string; branches: Set<string> }];
    const missing = split.kind === "split" ? split.next.filter((b) => !branches.has(b)) : [];
    if (missing.length > 0 && !this.reported.has(split.name)) {
      this.reported.add(split.name);
      this.issues.push(
        graphError(
          "join-mismatch",
          this.step(join).loc,
          `join \`${join}\` gets branch ${names([...branches])} of the split in \`${split.name}\` ` +
            `but never ${names(missing)}`,
          "every branch of a split must end in the same join step",
        ),
      );
    }
    return join;
  }

  noJoin(split: string, why: string, meetAt?: string): void {
    if (this.reported.has(split)) return;
    this.reported.add(split);
    const kind = this.kindOf(split);
    const hint = meetAt
      ? `make \`${meetAt}\` the join by giving it a first parameter \`inputs: Inputs<...>\`, or join the branches before it`
      : "add a join step (its first parameter is `inputs: Inputs<...>`) where the branches meet";
    this.issues.push(
      graphError("no-join", transitionLoc(this.step(split)), `the ${kind} in step \`${split}\` is never joined: ${why}`, hint),
    );
  }

  private step(name: string): StepNode {
    return this.graph.steps.get(name)!;
  }

  private kindOf(split: string): string {
    return this.step(split).kind === "foreach" ? "foreach" : "split";
  }

  private inside(stack: Stack): string {
    const top = stack.at(-1);
    return top ? `inside the ${this.kindOf(top.split)} in \`${top.split}\`` : "outside any split";
  }
}
