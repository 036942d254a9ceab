/**
 * .env.example, the committed form of Dagger's local defaults (.env beside dagger.json): every value a
 * reference (env:// or file://), never a secret's value, and every name one Dagger matches to a Secret
 * argument of the module, since a name that matches nothing is silently ignored and the call then asks for
 * the flag. The matching is Dagger's own (core/envfile.go): the function's name, lowerCamel or snake_case,
 * then `_`, then the argument's declared name, all compared without regard to case.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { moduleFunctions } from "../harness/module-functions.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const example = readFileSync(path.join(root, ".env.example"), "utf8");

/** `NAME=value` lines; with `commented`, the `# NAME=value` examples too (they must work once uncommented). */
function assignments(text: string, commented = false): { name: string; value: string }[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .map((line) => (commented ? line.replace(/^#\s*/, "") : line))
    .filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(line))
    .map((line) => {
      const at = line.indexOf("=");
      return { name: line.slice(0, at), value: line.slice(at + 1) };
    });
}

const functions = [...moduleFunctions().values()];
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The function and argument Dagger fills from `name`, or undefined when it fills none. */
function target(name: string): { fn: string; argument: string; type: string } | undefined {
  for (const fn of functions) {
    for (const prefix of [`${fn.declaredName}_`, `${snake(fn.declaredName)}_`]) {
      if (name.length <= prefix.length || name.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase())
        continue;
      const rest = name.slice(prefix.length).toLowerCase();
      for (const [argument, type] of fn.parameters)
        if (argument.toLowerCase() === rest) return { fn: fn.name, argument, type };
    }
  }
  return undefined;
}

describe(".env.example", () => {
  const defaults = assignments(example);

  it("holds only references: env://NAME or file://PATH, never a value", () => {
    expect(defaults.length).toBeGreaterThan(0);
    for (const { name, value } of assignments(example, true))
      expect(value, name).toMatch(/^(env:\/\/[A-Za-z_][A-Za-z0-9_]*|file:\/\/\S+)$/);
  });

  it("names only Secret arguments of the module's functions, spelled as Dagger matches them", () => {
    for (const { name } of assignments(example, true))
      expect(target(name), name).toMatchObject({ type: "Secret" });
  });

  it("gives every function the user types for an SSH environment its key, and deploy and publish the registry token", () => {
    const filled = defaults
      .map(({ name }) => target(name))
      .map((t) => `${t?.fn} --${snake(t?.argument ?? "").replace(/_/g, "-")}`);
    expect(filled).toEqual(
      expect.arrayContaining([
        "deploy --registry-password",
        "publish --password",
        ...["deploy", "backup", "restore", "rollback", "status"].map((fn) => `${fn} --ssh-key`),
      ]),
    );
  });

  it("the matcher finds what Dagger finds, and nothing Dagger would not", () => {
    expect(target("DEPLOY_SSHKEY")).toMatchObject({ fn: "deploy", argument: "sshKey" });
    expect(target("deploy_sshKey")).toMatchObject({ fn: "deploy", argument: "sshKey" });
    expect(target("SCAN_REPORT_FORMAT")).toMatchObject({ fn: "scan-report", argument: "format" });
    expect(target("DEPLOY_SSH_KEY")).toBeUndefined();
    expect(target("DEPLOY_NOSUCHARG")).toBeUndefined();
  });
});

describe("a real .env", () => {
  it("is git-ignored, so a value typed there by mistake never reaches the repository", () => {
    const ignored = readFileSync(path.join(root, ".gitignore"), "utf8").split("\n");
    expect(ignored).toContain(".env");
    expect(ignored).toContain("!.env.example");
  });
});
