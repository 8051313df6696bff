/**
 * What a join reads from its `inputs` by name. In a join closing a static split, `inputs`
 * also names each incoming task by the step its branch ended in (`inputs.trainTree`); a name
 * that is none of those is `undefined` at run time, found only after the branches ran. The
 * graph knows the branches statically, so `check` reports it (Metaflow does not). A foreach
 * join's `inputs` is an array and a key computed at run time (`inputs[name]`) cannot be
 * known: neither is checked.
 */
import ts from "./typescript-api.js";
import type TS from "typescript";
import { closestName } from "./closest-name.js";
import { graphError } from "./issue.js";
import { locOf, propertyName, stringLiteralValue, unwrap } from "./source-util.js";
import type { FlowGraph, GraphIssue, InputRead } from "./types.js";

/** `inputs.a`, `inputs?.a`, `inputs["a"]` and `const { a } = inputs` in the body of a join. */
export function readInputNames(sf: TS.SourceFile, file: string, method: TS.MethodDeclaration): InputRead[] {
  const reads: InputRead[] = [];
  const isInputs = (expr: TS.Expression) => {
    const e = unwrap(expr);
    return ts.isIdentifier(e) && e.text === "inputs";
  };
  const visit = (node: TS.Node): void => {
    // A nested function with its own `inputs` parameter reads something else.
    if (ts.isFunctionLike(node) && node !== method && node.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === "inputs")) return;
    if (ts.isPropertyAccessExpression(node) && isInputs(node.expression)) {
      reads.push({ name: node.name.text, loc: locOf(sf, file, node.name) });
    } else if (ts.isElementAccessExpression(node) && isInputs(node.expression)) {
      const name = stringLiteralValue(node.argumentExpression);
      if (name !== undefined) reads.push({ name, loc: locOf(sf, file, node.argumentExpression) });
    } else if (ts.isVariableDeclaration(node) && node.initializer && isInputs(node.initializer) && ts.isObjectBindingPattern(node.name)) {
      for (const element of node.name.elements) {
        if (element.dotDotDotToken) continue;
        const name = element.propertyName ? propertyName(element.propertyName) : ts.isIdentifier(element.name) ? element.name.text : undefined;
        if (name !== undefined) reads.push({ name, loc: locOf(sf, file, element) });
      }
    }
    ts.forEachChild(node, visit);
  };
  if (method.body) visit(method.body);
  return reads;
}

/** What `inputs` has whatever the branches: it is an array. */
const ARRAY_MEMBERS = new Set([...Object.getOwnPropertyNames(Array.prototype), ...Object.getOwnPropertyNames(Object.prototype)]);

/**
 * `unknown-input` for each name a static split's join reads that is not one of its inputs.
 * `matchingJoin`: split or foreach step -> the join that closes it.
 */
export function checkJoinInputs(graph: FlowGraph, matchingJoin: ReadonlyMap<string, string>): GraphIssue[] {
  const issues: GraphIssue[] = [];
  for (const join of graph.steps.values()) {
    if (!join.isJoin || !join.inputReads?.length) continue;
    const closes = [...matchingJoin].filter(([, j]) => j === join.name).map(([split]) => graph.steps.get(split)?.kind);
    if (closes.length === 0 || closes.some((kind) => kind !== "split")) continue;
    const branches = join.parents;
    for (const read of join.inputReads) {
      if (branches.includes(read.name) || ARRAY_MEMBERS.has(read.name) || /^\d+$/.test(read.name)) continue;
      const guess = closestName(read.name, branches);
      issues.push(
        graphError(
          "unknown-input",
          read.loc,
          `join \`${join.name}\` reads \`inputs.${read.name}\`, but its inputs come from ${listed(branches)}`,
          guess
            ? `did you mean \`inputs.${guess}\`?`
            : `a join's inputs are named by the last step of each branch: ${branches.map((b) => `\`inputs.${b}\``).join(", ")}`,
        ),
      );
    }
  }
  return issues;
}

function listed(names: string[]): string {
  const quoted = names.map((n) => `\`${n}\``);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}` : quoted.join("");
}
