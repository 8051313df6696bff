/**
 * Finds a flow's static graph from its source, like Metaflow's graph.py: parse the file,
 * find the flow class, read its `@step` methods, their `this.next(...)` calls and the
 * `Parameter(...)` / `IncludeFile(...)` fields. Parse only: no type checker, no program,
 * no user code runs, so `flowrun check` is fast and safe on any file.
 */
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import ts from "./typescript-api.js";
import type TS from "typescript";
import { FlowDefinitionError } from "../errors.js";
import { readInputNames } from "./parse-input-reads.js";
import { readAssignments } from "./parse-assignments.js";
import { parseTransition } from "./parse-next.js";
import { analyzeSplits } from "./split-analysis.js";
import {
  calleeName,
  decoratorsOf,
  docOf,
  hasDecorator,
  locOf,
  objectProperties,
  propertyName,
  stringLiteralValue,
  unwrap,
} from "./source-util.js";
import type { FlowGraph, ParameterInfo, StepNode } from "./types.js";

const FLOW_CLASS_HINT = "export the flow class: `export default class MyFlow extends FlowSpec { ... }`";

/** Reads and parses a flow file. Throws `FlowDefinitionError` when it is missing, unparsable or has no flow class. */
export function loadFlowGraph(file: string): FlowGraph {
  const sf = parseFlowSource(file, readFlowSource(file));
  const cls = findFlowClass(sf);
  if (!cls) {
    throw new FlowDefinitionError("no flow class found: no default-exported class, and no exported class extends FlowSpec", {
      where: `${file}:1`,
      hint: FLOW_CLASS_HINT,
    });
  }
  return buildFlowGraph(file, sf, cls);
}

export function readFlowSource(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    // The path is the error's `where`, printed before the message.
    const what =
      code === "ENOENT"
        ? "no such flow file"
        : code === "EISDIR"
          ? "this is a directory, not a flow file"
          : `cannot read the flow file (${code})`;
    throw new FlowDefinitionError(what, {
      where: file,
      hint: "check the path: give the .ts file that holds the flow class",
      cause,
    });
  }
}

/** Parses without a program; the first syntax error becomes a `FlowDefinitionError` at its line. */
export function parseFlowSource(file: string, text: string): TS.SourceFile {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
  // parseDiagnostics is internal but stable across TS 4-5; the public way needs a Program.
  const diagnostics = (sf as unknown as { parseDiagnostics?: TS.Diagnostic[] }).parseDiagnostics ?? [];
  const first = diagnostics[0];
  if (first) {
    const { line } = locOf(sf, file, first.start ?? 0);
    throw new FlowDefinitionError(`syntax error: ${ts.flattenDiagnosticMessageText(first.messageText, " ")}`, {
      where: `${file}:${line}`,
      hint: "fix the syntax; the flow file must parse as TypeScript before flowrun can read its graph",
    });
  }
  return sf;
}

function scriptKind(file: string): TS.ScriptKind {
  const ext = extname(file);
  if (ext === ".tsx") return ts.ScriptKind.TSX;
  if (ext === ".js" || ext === ".mjs" || ext === ".cjs") return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

/**
 * The flow class: the default export when it is a class (`export default class`,
 * `export default X`, `export { X as default }`), else a named export of a class that
 * extends `FlowSpec`.
 */
export function findFlowClass(sf: TS.SourceFile): TS.ClassDeclaration | undefined {
  const classes = new Map<string, TS.ClassDeclaration>();
  for (const st of sf.statements) if (ts.isClassDeclaration(st) && st.name) classes.set(st.name.text, st);

  let named: TS.ClassDeclaration | undefined;
  const consider = (cls: TS.ClassDeclaration | undefined) => {
    if (cls && !named && extendsFlowSpec(cls)) named = cls;
  };
  for (const st of sf.statements) {
    if (ts.isClassDeclaration(st) && hasModifier(st, ts.SyntaxKind.ExportKeyword)) {
      if (hasModifier(st, ts.SyntaxKind.DefaultKeyword)) return st;
      consider(st);
    } else if (ts.isExportAssignment(st) && !st.isExportEquals) {
      const target = unwrap(st.expression);
      if (ts.isIdentifier(target) && classes.has(target.text)) return classes.get(target.text);
    } else if (ts.isExportDeclaration(st) && !st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) {
        const local = classes.get((el.propertyName ?? el.name).text);
        if (el.name.text === "default" && local) return local;
        consider(local);
      }
    }
  }
  return named;
}

function hasModifier(node: TS.Node, kind: TS.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
}

function extendsFlowSpec(cls: TS.ClassDeclaration): boolean {
  return (cls.heritageClauses ?? []).some(
    (h) => h.token === ts.SyntaxKind.ExtendsKeyword && h.types.some((t) => calleeName(t.expression) === "FlowSpec"),
  );
}

/** The `@step` methods of a class, in source order (static methods are not steps). */
export function stepMethods(cls: TS.ClassDeclaration): TS.MethodDeclaration[] {
  return cls.members.filter(
    (m): m is TS.MethodDeclaration =>
      ts.isMethodDeclaration(m) && hasDecorator(m, "step") && !hasModifier(m, ts.SyntaxKind.StaticKeyword),
  );
}

export function buildFlowGraph(file: string, sf: TS.SourceFile, cls: TS.ClassDeclaration): FlowGraph {
  const steps = new Map<string, StepNode>();
  for (const method of stepMethods(cls)) {
    const step = readStep(file, sf, method);
    // A later method of the same name replaces the earlier one, as it does at run time.
    steps.delete(step.name);
    steps.set(step.name, step);
  }
  const graph: FlowGraph = {
    file,
    className: cls.name?.text ?? basename(file, extname(file)),
    loc: locOf(sf, file, cls.name ?? cls),
    doc: docOf(sf, cls),
    decorators: decoratorsOf(sf, file, cls),
    steps,
    parameters: readParameters(file, sf, cls),
  };
  linkSteps(graph);
  return graph;
}

function readStep(file: string, sf: TS.SourceFile, method: TS.MethodDeclaration): StepNode {
  const first = method.parameters[0];
  const isJoin = first !== undefined && ts.isIdentifier(first.name) && first.name.text === "inputs";
  return {
    name: propertyName(method.name) ?? method.name.getText(sf),
    ...parseTransition(sf, file, method),
    isJoin,
    ...(isJoin ? { inputReads: readInputNames(sf, file, method) } : {}),
    assignments: readAssignments(sf, file, method),
    parents: [],
    splitParents: [],
    doc: docOf(sf, method),
    decorators: decoratorsOf(sf, file, method),
    async: hasModifier(method, ts.SyntaxKind.AsyncKeyword),
    loc: locOf(sf, file, method.name),
  };
}

/** Fills `parents`, `splitParents` and `matchingJoin` from the `next` edges. */
export function linkSteps(graph: FlowGraph): void {
  for (const step of graph.steps.values()) {
    for (const child of step.next) {
      const target = graph.steps.get(child);
      if (target && !target.parents.includes(step.name)) target.parents.push(step.name);
    }
  }
  const { splitParents, matchingJoin } = analyzeSplits(graph);
  for (const [name, parents] of splitParents) graph.steps.get(name)!.splitParents = parents;
  for (const [name, join] of matchingJoin) graph.steps.get(name)!.matchingJoin = join;
}

function readParameters(file: string, sf: TS.SourceFile, cls: TS.ClassDeclaration): ParameterInfo[] {
  const params: ParameterInfo[] = [];
  for (const member of cls.members) {
    if (!ts.isPropertyDeclaration(member) || !member.initializer) continue;
    const init = unwrap(member.initializer);
    if (!ts.isCallExpression(init)) continue;
    const kind = calleeName(init.expression);
    if (kind !== "Parameter" && kind !== "IncludeFile") continue;
    const field = propertyName(member.name) ?? member.name.getText(sf);
    const [nameArg, optionsArg] = init.arguments;
    const optionsExpr = optionsArg ? unwrap(optionsArg) : undefined;
    const options = optionsExpr && ts.isObjectLiteralExpression(optionsExpr) ? objectProperties(optionsExpr) : {};
    const def = options.default;
    const typeExpr = options.type;
    const separator = options.separator ? stringLiteralValue(options.separator) : undefined;
    params.push({
      field,
      name: (nameArg && stringLiteralValue(nameArg)) ?? field,
      kind,
      defaultText: def?.getText(sf),
      help: options.help ? (stringLiteralValue(options.help) ?? options.help.getText(sf)) : undefined,
      typeName: typeExpr ? typeExpr.getText(sf) : def && kind === "Parameter" ? inferType(def) : separator !== undefined ? "String" : undefined,
      required: options.required?.kind === ts.SyntaxKind.TrueKeyword,
      separator,
      loc: locOf(sf, file, member.name),
    });
  }
  return params;
}

/** The parameter type a literal default implies; for a function, what its expression body returns. */
function inferType(expr: TS.Expression): string | undefined {
  const e = unwrap(expr);
  if (ts.isArrowFunction(e)) return ts.isBlock(e.body) ? undefined : inferType(e.body);
  if (ts.isNumericLiteral(e) || ts.isBigIntLiteral(e)) return "Number";
  if (ts.isPrefixUnaryExpression(e)) {
    if (e.operator === ts.SyntaxKind.ExclamationToken) return "Boolean";
    if (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken) return inferType(e.operand);
    return undefined;
  }
  if (e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword) return "Boolean";
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isTemplateExpression(e)) return "String";
  if (ts.isObjectLiteralExpression(e) || ts.isArrayLiteralExpression(e)) return "JSONType";
  return undefined;
}
