/** A small HTTPS/HTTP client for the stack tests: verifies the test certificate, follows nothing. */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** PEM of the CA to trust: the self-signed certificate nginx serves. */
  readonly ca?: Buffer;
  /**
   * The name the certificate must carry: "localhost" (the tests' own certificates) unless given; none (the
   * URL's address checked instead) for a certificate made for an address, as setup makes one for 127.0.0.1.
   */
  readonly servername?: string | null;
  readonly timeoutMs?: number;
}

export function request(url: string, options: RequestOptions = {}): Promise<Reply> {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: options.method ?? "GET",
        headers: options.headers ?? {},
        agent: false,
        ...(target.protocol === "https:"
          ? {
              ca: options.ca,
              ...(options.servername === null ? {} : { servername: options.servername ?? "localhost" }),
            }
          : {}),
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${options.method ?? "GET"} ${url} timed out`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

export function readCa(prefix: string): Buffer {
  return readFileSync(join(prefix, "certs", "fullchain.pem"));
}
