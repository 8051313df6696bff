/**
 * The names a join reads from its `inputs`, found in its source when the flow is parsed;
 * join-inputs.ts checks them against the graph.
 */
import ts from "./typescript-api.js";
import type TS from "typescript";
import { locOf, propertyName, stringLiteralValue, unwrap } from "./source-util.js";
import type { InputRead } from "./types.js";

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
