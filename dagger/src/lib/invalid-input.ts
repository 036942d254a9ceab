/** Turns zod failures into one error that names each bad field and says what it should be. */
import type { z } from "zod";

export class InvalidInputError extends Error {
  override name = "InvalidInputError";
}

export type FieldLabel = (path: readonly PropertyKey[]) => string;

const dotted: FieldLabel = (path) => (path.length > 0 ? path.map(String).join(".") : "(input)");

/** How `dagger call` spells an argument: nodeImage is --node-image. */
export const asCliFlag: FieldLabel = (path) => {
  const [first, ...rest] = path.map(String);
  if (first === undefined) return "(input)";
  const flag = `--${first.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return [flag, ...rest].join(".");
};

export function describeIssues(issues: readonly z.core.$ZodIssue[], label: FieldLabel = dotted): string {
  return issues.map((issue) => `${label(issue.path)}: ${issue.message}`).join("\n");
}

/** Parses `input` with `schema`, or throws an InvalidInputError titled `what` listing every bad field. */
export function parseOrExplain<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  label: FieldLabel = dotted,
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new InvalidInputError(`invalid ${what}:\n${describeIssues(result.error.issues, label)}`);
  }
  return result.data;
}
