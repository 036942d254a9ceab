/** age encryption of stored backups: recipients are public keys, the identity is a file path from the environment. */
import type { Command } from "./argv.js";

export function ageEncrypt(recipients: readonly string[], input: string, output: string): Command {
  return { argv: ["age", "--encrypt", ...recipients.flatMap((r) => ["-r", r]), "-o", output, input] };
}

export function ageDecrypt(identityFile: string, input: string, output: string): Command {
  return { argv: ["age", "--decrypt", "-i", identityFile, "-o", output, input] };
}
