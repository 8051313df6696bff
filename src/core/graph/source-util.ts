/**
 * Small helpers over the TypeScript syntax tree, shared by the flow parser and the linter.
 * Everything here reads syntax only: no type checker, no program, no user code runs.
 */
import ts from "./typescript-api.js";
import type TS from "typescript";
import type { DecoratorInfo, SourceLocation } from "./types.js";

/** 1-based location of a node's first token (not its leading trivia) or of a text position. */
export function locOf(sf: TS.SourceFile, file: string, at: TS.Node | number): SourceLocation {
  const pos = typeof at === "number" ? at : at.getStart(sf);
  const { line, character } = sf.getLineAndCharacterOfPosition(pos);
  return { file, line: line + 1, column: character + 1 };
}

/** Strips the wrappers that do not change what an expression denotes: `(x)`, `x as T`, `x!`, `x satisfies T`. */
export function unwrap(expr: TS.Expression): TS.Expression {
  let e = expr;
  while (
    ts.isParenthesizedExpression(e) ||
    ts.isAsExpression(e) ||
    ts.isNonNullExpression(e) ||
    ts.isSatisfiesExpression(e) ||
    ts.isTypeAssertionExpression(e)
  ) {
    e = e.expression;
  }
  return e;
}

/** The value of `"x"` or `` `x` `` (a template without substitutions); undefined for anything else. */
export function stringLiteralValue(expr: TS.Expression): string | undefined {
  const e = unwrap(expr);
  return ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) ? e.text : undefined;
}

/** The name of a class member or object key when it is written statically. */
export function propertyName(name: TS.PropertyName | undefined): string | undefined {
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text;
  if (ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name)) {
    return name.text;
  }
  return undefined;
}

/** The statically named properties of an object literal: `{ a: x, b }` is a -> x, b -> b (spreads and computed keys left out). */
export function objectProperties(obj: TS.ObjectLiteralExpression): Record<string, TS.Expression> {
  const out: Record<string, TS.Expression> = {};
  for (const prop of obj.properties) {
    const key = propertyName(prop.name);
    if (key === undefined) continue;
    if (ts.isPropertyAssignment(prop)) out[key] = prop.initializer;
    else if (ts.isShorthandPropertyAssignment(prop)) out[key] = prop.name;
  }
  return out;
}

/** The right-most name of a callee: `retry` for `retry`, `retry(...)` and `flowrun.retry(...)`. */
export function calleeName(expr: TS.Expression): string | undefined {
  const e = unwrap(expr);
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

export function decoratorsOf(sf: TS.SourceFile, file: string, node: TS.Node): DecoratorInfo[] {
  const decorators = ts.canHaveDecorators(node) ? (ts.getDecorators(node) ?? []) : [];
  return decorators.map((d) => {
    const expr = unwrap(d.expression);
    const call = ts.isCallExpression(expr) ? expr : undefined;
    return {
      name: calleeName(call ? call.expression : expr) ?? expr.getText(sf),
      args: call ? call.arguments.map((a) => a.getText(sf)).join(", ") : "",
      loc: locOf(sf, file, d),
    };
  });
}

export function hasDecorator(node: TS.Node, name: string): boolean {
  const decorators = ts.canHaveDecorators(node) ? (ts.getDecorators(node) ?? []) : [];
  return decorators.some((d) => {
    const e = unwrap(d.expression);
    return calleeName(ts.isCallExpression(e) ? e.expression : e) === name;
  });
}

/**
 * The JSDoc text of a declaration. TypeScript attaches a `/** *\/` comment only when it
 * comes before the decorators; people also write it between `@step` and the method, so
 * when nothing is attached we look at the comments right before the first token after the
 * decorators.
 */
export function docOf(sf: TS.SourceFile, node: TS.Node): string | undefined {
  const attached = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc).at(-1);
  if (attached) return clean(ts.getTextOfJSDocComment(attached.comment));
  const decorators = ts.canHaveDecorators(node) ? ts.getDecorators(node) : undefined;
  const last = decorators?.at(-1);
  if (!last) return undefined;
  const comments = ts.getLeadingCommentRanges(sf.text, last.end) ?? [];
  const jsdoc = comments.filter((c) => sf.text.startsWith("/**", c.pos)).at(-1);
  if (!jsdoc) return undefined;
  const body = sf.text
    .slice(jsdoc.pos + 3, jsdoc.end - 2)
    .split("\n")
    .map((line) => line.replace(/^\s*\*?\s?/, ""))
    .join("\n");
  return clean(body);
}

function clean(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

/** `this.next(...)`, including `this["next"](...)`. */
export function isThisNextCall(node: TS.Node): node is TS.CallExpression {
  if (!ts.isCallExpression(node)) return false;
  const callee = unwrap(node.expression);
  if (ts.isPropertyAccessExpression(callee)) {
    return callee.expression.kind === ts.SyntaxKind.ThisKeyword && callee.name.text === "next";
  }
  if (ts.isElementAccessExpression(callee)) {
    return (
      callee.expression.kind === ts.SyntaxKind.ThisKeyword &&
      stringLiteralValue(callee.argumentExpression) === "next"
    );
  }
  return false;
}

/** The member name of `this.x` / `this["x"]`, else undefined. */
export function thisMemberName(expr: TS.Expression): string | undefined {
  const e = unwrap(expr);
  if (ts.isPropertyAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) {
    return e.name.text;
  }
  if (ts.isElementAccessExpression(e) && e.expression.kind === ts.SyntaxKind.ThisKeyword) {
    return stringLiteralValue(e.argumentExpression);
  }
  return undefined;
}
