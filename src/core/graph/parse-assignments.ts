/**
 * Where a step's body assigns each artifact: `this.model = ...`, `this.stats.count += 1`,
 * `this["x"] = ...`. A task that fails to store an artifact (a class instance, a function)
 * is told the line that put it there, which the runtime cannot see: by the time the value
 * is stored the step has returned.
 */
import ts from "./typescript-api.js";
import type TS from "typescript";
import { locOf, thisMemberName, unwrap } from "./source-util.js";
import type { SourceLocation } from "./types.js";

/** Artifact name -> every assignment to it (or into it) in the step's body, in source order. */
export function readAssignments(sf: TS.SourceFile, file: string, method: TS.MethodDeclaration): Record<string, SourceLocation[]> {
  const found: Record<string, SourceLocation[]> = {};
  const visit = (node: TS.Node): void => {
    // In a nested class or `function`, `this` is another object; arrow functions keep the step's.
    if (ts.isClassLike(node) || ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) return;
    if (ts.isBinaryExpression(node) && isAssignment(node.operatorToken.kind)) {
      const name = artifactOf(node.left);
      if (name !== undefined) (found[name] ??= []).push(locOf(sf, file, node));
    }
    ts.forEachChild(node, visit);
  };
  if (method.body) visit(method.body);
  return found;
}

function isAssignment(kind: TS.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

/** `x` for `this.x`, `this.x.y[0]`, `this["x"].y`: the artifact an assignment target lies in. */
function artifactOf(target: TS.Expression): string | undefined {
  let e = unwrap(target);
  for (;;) {
    const name = thisMemberName(e);
    if (name !== undefined) return name;
    if (!ts.isPropertyAccessExpression(e) && !ts.isElementAccessExpression(e)) return undefined;
    e = unwrap(e.expression);
  }
}
