import { z } from "zod";

export const idParams = z.object({ id: z.coerce.number().int().min(1).max(2_147_483_647) });

export const errorBody = z.object({ error: z.string(), message: z.string() }).passthrough();
