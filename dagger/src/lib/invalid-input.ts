/** Turns zod failures into one error that names each bad field and says what it should be. */
import type { z } from "zod";

export class InvalidInputError extends Error {
  override name = "InvalidInputError";
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join(".") : "(input)";
      return `${field}: ${issue.message}`;
    })
    .join("\n");
}

/** Parses `input` with `schema`, or throws an InvalidInputError titled `what` listing every bad field. */
export function parseOrExplain<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new InvalidInputError(`invalid ${what}:\n${describeIssues(result.error.issues)}`);
  }
  return result.data;
}
