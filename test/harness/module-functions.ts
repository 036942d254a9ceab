/**
 * The Dagger module's functions as `dagger call` knows them, read from dagger/src/index.ts's syntax (no
 * engine): each @func method, kebab-cased as the CLI spells it, with its parameters and their declared types.
 * The workflow and local-defaults tests check what they call and configure against it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MODULE_FILE = "dagger/src/index.ts";

export interface ModuleFunction {
  /** As `dagger call` spells it: scanReports is scan-reports. */
  name: string;
  /** As the module declares it (the name Dagger's local defaults are matched against). */
  declaredName: string;
  /** Each parameter by its declared name, with its type as written (`Secret`, `string`…). */
  parameters: Map<string, string>;
}

export function moduleFunctions(): Map<string, ModuleFunction> {
  const source = ts.createSourceFile(
    MODULE_FILE,
    readFileSync(path.join(root, MODULE_FILE), "utf8"),
    ts.ScriptTarget.Latest,
    true,
  );
  const functions = new Map<string, ModuleFunction>();
  const visit = (node: ts.Node) => {
    if (ts.isMethodDeclaration(node) && ts.isIdentifier(node.name)) {
      const decorated = (ts.getDecorators(node) ?? []).some(
        (d) =>
          ts.isCallExpression(d.expression) &&
          ts.isIdentifier(d.expression.expression) &&
          d.expression.expression.text === "func",
      );
      if (decorated) {
        const declaredName = node.name.text;
        const parameters = new Map(
          node.parameters.map((p) => [p.name.getText(source), p.type?.getText(source) ?? "inferred"]),
        );
        const name = declaredName.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        functions.set(name, { name, declaredName, parameters });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return functions;
}
