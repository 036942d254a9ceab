import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Every check requireAdmin made, so the API docs can tell which routes need the token from the routes themselves. */
const adminChecks = new WeakSet<object>();

/**
 * An onRequest hook that lets a request through only with `Authorization: Bearer <ADMIN_TOKEN>`.
 * onRequest runs before the body is parsed and validated, so a caller without the token learns nothing
 * about the route's schema (a bad body answers 401, not a 400 listing the fields) and cannot make the
 * app parse a body it will refuse anyway.
 * Both sides are hashed first so the comparison is constant-time and does not leak the token's length.
 */
export function requireAdmin(adminToken: string) {
  const expected = digest(adminToken);
  const check = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? "";
    const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
    if (!timingSafeEqual(digest(given), expected)) {
      return reply.code(401).header("www-authenticate", 'Bearer realm="catalog"').send({
        error: "Unauthorized",
        message: "this call needs the admin token: Authorization: Bearer <token>",
      });
    }
  };
  adminChecks.add(check);
  return check;
}

/** Whether a route's onRequest hooks (one function or a list) include the admin check. */
export function needsAdmin(onRequest: unknown): boolean {
  return [onRequest].flat().some((hook) => typeof hook === "function" && adminChecks.has(hook));
}
