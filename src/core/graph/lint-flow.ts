/**
 * The suggested practices of SPEC section 7, checked by `flowrun check` as warnings:
 * they never fail a check or a run, they point at the line to change.
 */
import { isBuiltin } from "node:module";
import ts from "./typescript-api.js";
import type TS from "typescript";
import { flowLoc, graphWarning, sortIssues } from "./issue.js";
import { findFlowClass, stepMethods } from "./parse-flow.js";
import { locOf, propertyName, unwrap } from "./source-util.js";
import type { FlowGraph, GraphIssue } from "./types.js";

/** A step body longer than this many non-blank lines should move its work into functions. */
export const MAX_STEP_LINES = 30;

export function lintFlow(graph: FlowGraph, sourceText: string): GraphIssue[] {
  const sf = ts.createSourceFile(graph.file, sourceText, ts.ScriptTarget.Latest, true);
  const cls = findFlowClass(sf);
  return sortIssues([
    ...lintName(graph),
    ...lintTopLevel(graph.file, sf, cls),
    ...lintSteps(graph, sf, cls),
    ...lintFlowSetup(graph),
  ]);
}

function lintName(graph: FlowGraph): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const name = graph.className;
  if (!name.endsWith("Flow")) {
    issues.push(
      graphWarning(
        "flow-name-suffix",
        flowLoc(graph),
        `flow class \`${name}\` does not end in \`Flow\``,
        `rename it \`${name}Flow\` so readers of runs and code see it is a flow`,
      ),
    );
  }
  const words = name.replace(/Flow$/, "").match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? [];
  if (words.length <= 1) {
    issues.push(
      graphWarning(
        "generic-flow-name",
        flowLoc(graph),
        `flow class name \`${name}\` is generic (one word)`,
        "name what the flow does, e.g. `ArxivTopicModelFlow`: the class name names every run in the datastore",
      ),
    );
  }
  return issues;
}

/**
 * Each worker of each step imports the whole flow file, so module-level code runs again
 * in every step and its imports bypass `@dependencies`. Types are fine (erased), and so
 * are `flowrun` and Node built-ins: they have no version to isolate and load in no time.
 */
function lintTopLevel(file: string, sf: TS.SourceFile, cls: TS.ClassDeclaration | undefined): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const className = cls?.name?.text;
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) || ts.isImportEqualsDeclaration(st)) {
      const spec = importedModule(st);
      if (spec !== undefined && !isTypeOnly(st) && !allowedAtTopLevel(spec)) {
        issues.push(
          graphWarning(
            "top-level-import",
            locOf(sf, file, st),
            `top-level import of \`${spec}\`; imports belong inside the steps that use them`,
            `move it into the step: \`const m = await import("${spec}")\`, so each step loads only what it needs`,
          ),
        );
      }
      continue;
    }
    if (st === cls || isErased(st) || exportsOnly(st, className)) continue;
    issues.push(
      graphWarning(
        "top-level-code",
        locOf(sf, file, st),
        `${describe(st, sf)} at the top level of the flow file runs again in every step's worker`,
        "move it into the step that uses it, or into a module that step imports",
      ),
    );
  }
  return issues;
}

function importedModule(st: TS.ImportDeclaration | TS.ImportEqualsDeclaration): string | undefined {
  if (ts.isImportDeclaration(st)) return ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : undefined;
  const ref = st.moduleReference;
  return ts.isExternalModuleReference(ref) && ts.isStringLiteral(ref.expression) ? ref.expression.text : undefined;
}

function isTypeOnly(st: TS.ImportDeclaration | TS.ImportEqualsDeclaration): boolean {
  if (ts.isImportEqualsDeclaration(st)) return st.isTypeOnly;
  const clause = st.importClause;
  if (!clause) return false; // `import "x"` is there for its side effects
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  const elements = bindings && ts.isNamedImports(bindings) ? bindings.elements : [];
  return !clause.name && elements.length > 0 && elements.every((e) => e.isTypeOnly);
}

function allowedAtTopLevel(spec: string): boolean {
  return spec === "flowrun" || spec.startsWith("flowrun/") || isBuiltin(spec);
}

function isErased(st: TS.Statement): boolean {
  if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st) || ts.isEmptyStatement(st)) return true;
  return ts.canHaveModifiers(st) && (ts.getModifiers(st) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
}

/** `export default MyFlow;` or `export { MyFlow }` naming only the flow class. */
function exportsOnly(st: TS.Statement, className: string | undefined): boolean {
  if (!className) return false;
  if (ts.isExportAssignment(st)) {
    const e = unwrap(st.expression);
    return ts.isIdentifier(e) && e.text === className;
  }
  if (ts.isExportDeclaration(st) && !st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause)) {
    return st.exportClause.elements.every((el) => (el.propertyName ?? el.name).text === className);
  }
  return false;
}

function describe(st: TS.Statement, sf: TS.SourceFile): string {
  if (ts.isFunctionDeclaration(st)) return `function \`${st.name?.text ?? "default"}\``;
  if (ts.isClassDeclaration(st)) return `class \`${st.name?.text ?? "default"}\``;
  if (ts.isVariableStatement(st)) {
    const flags = st.declarationList.flags;
    const keyword = flags & ts.NodeFlags.Const ? "const" : flags & ts.NodeFlags.Let ? "let" : "var";
    const names = st.declarationList.declarations.map((d) => d.name.getText(sf));
    return `\`${keyword} ${names.join(", ")}\``;
  }
  if (ts.isEnumDeclaration(st)) return `enum \`${st.name.text}\``;
  return "code";
}

function lintSteps(graph: FlowGraph, sf: TS.SourceFile, cls: TS.ClassDeclaration | undefined): GraphIssue[] {
  const issues: GraphIssue[] = [];
  for (const name of ["start", "end"]) {
    const step = graph.steps.get(name);
    if (step && !step.doc) {
      issues.push(
        graphWarning(
          "missing-docstring",
          step.loc,
          `step \`${name}\` has no docstring`,
          `add a /** ... */ comment above \`${name}\` saying what it does; \`flowrun show\` prints it`,
        ),
      );
    }
  }
  for (const method of cls ? stepMethods(cls) : []) {
    const name = propertyName(method.name);
    const step = name === undefined ? undefined : graph.steps.get(name);
    if (!method.body || !step) continue;
    const inner = sf.text.slice(method.body.getStart(sf) + 1, method.body.end - 1);
    const lines = inner.split("\n").filter((l) => l.trim() !== "").length;
    if (lines > MAX_STEP_LINES) {
      issues.push(
        graphWarning(
          "long-step",
          step.loc,
          `step \`${step.name}\` is ${lines} lines long (more than ${MAX_STEP_LINES})`,
          "move the work into functions of a module the step imports, so the step reads as an outline",
        ),
      );
    }
  }
  return issues;
}

function lintFlowSetup(graph: FlowGraph): GraphIssue[] {
  const issues: GraphIssue[] = [];
  if (!graph.decorators.some((d) => d.name === "project")) {
    issues.push(
      graphWarning(
        "no-project",
        flowLoc(graph),
        `flow \`${graph.className}\` has no \`@project\``,
        'add `@project({ name: "..." })` above the class, so production and each user\'s runs stay apart',
      ),
    );
  }
  if (!graph.parameters.some((p) => p.name === "test-mode")) {
    issues.push(
      graphWarning(
        "no-test-mode",
        flowLoc(graph),
        `flow \`${graph.className}\` has no \`test-mode\` parameter`,
        'add `testMode = Parameter("test-mode", { default: () => !current.isProduction, help: "Run on a small subset" })`',
      ),
    );
  }
  return issues;
}
