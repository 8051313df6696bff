/**
 * Reads a step's transition from its `this.next(...)` call, the way Metaflow's graph.py
 * reads `self.next(...)`: the call's arguments are the whole truth, no code runs.
 *
 *   this.next(this.b)                                       linear
 *   this.next(this.a, this.b)                               split
 *   this.next(this.body, { foreach: "items" })              foreach
 *   this.next({ x: this.a, y: this.b }, { condition: "c" }) switch
 *
 * Anything unusual is recorded in `StepSyntax` rather than thrown, so `flowrun check`
 * can report every problem of a file at once.
 */
import ts from "./typescript-api.js";
import type TS from "typescript";
import { isThisNextCall, locOf, propertyName, stringLiteralValue, thisMemberName, unwrap } from "./source-util.js";
import type { SourceLocation, StepSyntax, TransitionKind } from "./types.js";

export interface ParsedTransition {
  kind: TransitionKind;
  next: string[];
  foreach?: string;
  condition?: string;
  switchCases?: Record<string, string>;
  nextLoc?: SourceLocation;
  syntax: StepSyntax;
}

export function parseTransition(sf: TS.SourceFile, file: string, method: TS.MethodDeclaration): ParsedTransition {
  const calls = method.body ? findNextCalls(method.body) : [];
  const syntax: StepSyntax = { nextCalls: calls.map((c) => locOf(sf, file, c)) };
  const first = calls[0];
  if (!first || !method.body) return { kind: "end", next: [], syntax };

  const notLast = placeOfNotLast(first, method.body);
  if (notLast) syntax.nextNotLast = locOf(sf, file, notLast);
  const parsed = readArguments(sf, first, syntax);
  return { ...parsed, nextLoc: syntax.nextCalls[0], syntax };
}

/** All `this.next` calls in a body, skipping nested classes (their `this` is another object). */
function findNextCalls(body: TS.Block): TS.CallExpression[] {
  const calls: TS.CallExpression[] = [];
  const visit = (node: TS.Node): void => {
    if (ts.isClassLike(node)) return;
    if (isThisNextCall(node)) calls.push(node);
    ts.forEachChild(node, visit);
  };
  visit(body);
  return calls;
}

/**
 * The call must be the body's last statement (`this.next(...)` or `return this.next(...)`).
 * Returns the statement that follows it, or the statement that encloses it when nested.
 */
function placeOfNotLast(call: TS.CallExpression, body: TS.Block): TS.Node | undefined {
  let stmt: TS.Node = call;
  while (stmt.parent && stmt.parent !== body) stmt = stmt.parent;
  const direct =
    (ts.isExpressionStatement(stmt) || ts.isReturnStatement(stmt)) &&
    stmt.expression !== undefined &&
    unwrap(stmt.expression) === call;
  if (!direct) return stmt;
  const index = body.statements.indexOf(stmt as TS.Statement);
  return body.statements[index + 1];
}

type Transition = Omit<ParsedTransition, "syntax" | "nextLoc">;

function readArguments(sf: TS.SourceFile, call: TS.CallExpression, syntax: StepSyntax): Transition {
  const args = call.arguments.map(unwrap);
  const [head] = args;
  if (!head) {
    syntax.malformedNext = "`this.next()` names no step";
    return { kind: "linear", next: [] };
  }
  if (ts.isObjectLiteralExpression(head)) return readSwitch(sf, args, syntax);

  const optionsAt = args.findIndex(ts.isObjectLiteralExpression);
  const targets = optionsAt === -1 ? args : args.slice(0, optionsAt);
  const options = optionsAt === -1 ? undefined : (args[optionsAt] as TS.ObjectLiteralExpression);
  if (optionsAt !== -1 && optionsAt !== args.length - 1) {
    syntax.malformedNext = "the options object must be the last argument of `this.next(...)`";
  }
  const next = targets.map((t) => targetName(sf, t, syntax));
  const opts = options ? readOptions(sf, options, syntax) : {};

  if (opts.condition !== undefined || opts.conditionText !== undefined) {
    syntax.malformedNext =
      'a `condition` goes with a switch: `this.next({ a: this.x, b: this.y }, { condition: "artifact" })`';
  }
  if (opts.foreach !== undefined || opts.foreachText !== undefined) {
    if (next.length !== 1) syntax.malformedNext = `a foreach goes to exactly one step, not ${next.length}`;
    return { kind: "foreach", next, foreach: opts.foreach };
  }
  if (new Set(next).size !== next.length) syntax.malformedNext = "a split names the same step twice";
  return { kind: next.length > 1 ? "split" : "linear", next };
}

function readSwitch(sf: TS.SourceFile, args: TS.Expression[], syntax: StepSyntax): Transition {
  const cases = args[0] as TS.ObjectLiteralExpression;
  const switchCases: Record<string, string> = {};
  for (const prop of cases.properties) {
    const key = propertyName(prop.name);
    if (key === undefined) {
      syntax.malformedNext = `switch case \`${prop.getText(sf)}\` must be written \`key: this.step\``;
    } else if (ts.isPropertyAssignment(prop)) {
      switchCases[key] = targetName(sf, prop.initializer, syntax);
    } else if (ts.isShorthandPropertyAssignment(prop)) {
      switchCases[key] = targetName(sf, prop.name, syntax);
    } else {
      syntax.malformedNext = `switch case \`${key}\` must be written \`${key}: this.step\``;
    }
  }
  const next = [...new Set(Object.values(switchCases))];
  if (cases.properties.length === 0) syntax.malformedNext = "a switch needs at least one case";
  const options = args[1];
  const opts = options && ts.isObjectLiteralExpression(options) ? readOptions(sf, options, syntax) : {};
  if (args.length > 2) syntax.malformedNext = "a switch takes the cases object and one options object";
  if (opts.condition === undefined && opts.conditionText === undefined) {
    syntax.malformedNext = 'a switch needs `{ condition: "artifact" }` as its second argument';
  }
  if (opts.foreach !== undefined || opts.foreachText !== undefined) {
    syntax.malformedNext = "a switch cannot also be a foreach";
  }
  return { kind: "switch", next, condition: opts.condition, switchCases };
}

interface Options {
  foreach?: string;
  foreachText?: string;
  condition?: string;
  conditionText?: string;
}

function readOptions(sf: TS.SourceFile, obj: TS.ObjectLiteralExpression, syntax: StepSyntax): Options {
  const out: Options = {};
  for (const prop of obj.properties) {
    const key = propertyName(prop.name);
    if (key !== "foreach" && key !== "condition") {
      syntax.malformedNext = `unknown option \`${prop.getText(sf)}\` in \`this.next(...)\`; the options are foreach and condition`;
      continue;
    }
    const value = ts.isPropertyAssignment(prop) ? prop.initializer : undefined;
    const literal = value ? stringLiteralValue(value) : undefined;
    if (literal !== undefined) {
      out[key] = literal;
    } else {
      const text = value ? value.getText(sf) : prop.getText(sf);
      out[key === "foreach" ? "foreachText" : "conditionText"] = text;
      syntax.nonLiteral = { option: key, text };
    }
  }
  return out;
}

/** `this.b` -> `b`; anything else is kept as its source text and remembered as not a member. */
function targetName(sf: TS.SourceFile, expr: TS.Expression, syntax: StepSyntax): string {
  const name = thisMemberName(expr);
  if (name !== undefined) return name;
  const text = expr.getText(sf);
  (syntax.nonMemberTargets ??= []).push(text);
  return text;
}
