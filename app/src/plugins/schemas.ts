/**
 * Schemas shared by the HTTP routes. Every value a route passes to Postgres is bounded here to what its
 * column can hold, so bad input is a 400 naming the parameter, never a database error answered as 500.
 */
import { z } from "zod";

/** The largest Postgres `integer` (int4): every id column in app/migrations is one. */
export const INT4_MAX = 2_147_483_647;

/** A row id in a JSON body, where it must already be a number. */
export const rowId = z.number().int().min(1).max(INT4_MAX);

/** A row id in the path: a string there, hence the coercion. */
export const idParams = z.object({ id: z.coerce.number().int().min(1).max(INT4_MAX) });

/**
 * Text the app stores. Postgres `text` cannot hold U+0000 and fails the whole statement (22021), so the
 * schema refuses it first; every string a route writes starts from here.
 */
export const storedText = () =>
  z.string().refine((value) => !value.includes("\u0000"), { message: "must not contain NUL (\\u0000)" });

/** Keyset pagination: `after` is the last id of the previous page (0 for the first page). */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.coerce.number().int().min(0).max(INT4_MAX).default(0),
});

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextAfter: z.number().nullable() });

export const errorBody = z.object({ error: z.string(), message: z.string() }).passthrough();
