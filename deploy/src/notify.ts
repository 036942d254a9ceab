/**
 * A Slack-compatible webhook: one POST of `{"text": …}` (plus the operation's record as `shipyard`, for
 * receivers that read more than text). The URL is a secret: no message here ever contains it.
 */
import type { OperationRecord } from "./commands/audit.js";

export const WEBHOOK_TIMEOUT_MS = 5_000;

export async function postWebhook(
  url: string,
  text: string,
  record: OperationRecord,
  timeoutMs = WEBHOOK_TIMEOUT_MS,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text, shipyard: record }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === "TimeoutError"
        ? `no answer within ${timeoutMs / 1000} s`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new Error(`the webhook could not be reached: ${why}`);
  }
  // Read to the end, so the connection is free; the body says nothing we act on.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`the webhook answered ${response.status} ${response.statusText}`.trim());
}
