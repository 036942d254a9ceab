/** Throwaway credentials and the names that keep one run's secrets apart from another's. */
import { randomBytes } from "node:crypto";

/** A password for a throwaway service that lives only as long as one run. */
export function generatedPassword(): string {
  return randomBytes(24).toString("base64url");
}

/** A name unique to one run, so two runs in one session never share a secret by name. */
export function runId(): string {
  return randomBytes(4).toString("hex");
}
