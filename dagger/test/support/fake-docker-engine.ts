/**
 * A Docker Engine API on a unix socket, just enough for the launcher's commands (`docker load`, `docker tag`,
 * `docker run --rm`), that enforces what Docker Engine 29 enforces: a client below API 1.44 is refused
 * with the engine's own message. It records every request, so a test sees the API version each call used
 * and the container the client asked for. A stand-in: no real engine may run where the unit tests run.
 */
import { once } from "node:events";
import http from "node:http";
import type { Socket } from "node:net";

export const ENGINE_API_VERSION = "1.52";
export const ENGINE_MIN_API_VERSION = "1.44";

export interface RecordedRequest {
  method: string;
  path: string;
  apiVersion?: string;
  body?: unknown;
}

export interface FakeEngine {
  requests: RecordedRequest[];
  /** The body of each POST /containers/create. */
  created: Record<string, unknown>[];
  close(): Promise<void>;
}

const older = (a: string, b: string) => {
  const [am = 0, an = 0] = a.split(".").map(Number);
  const [bm = 0, bn = 0] = b.split(".").map(Number);
  return am < bm || (am === bm && an < bn);
};

/** One frame of Docker's multiplexed stdout/stderr stream (stream 1 = stdout). */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export async function startFakeEngine(socketPath: string): Promise<FakeEngine> {
  const requests: RecordedRequest[] = [];
  const created: Record<string, unknown>[] = [];
  const attached = new Map<string, Socket>();
  const finished = new Map<string, () => void>();
  const done = new Map<string, Promise<void>>();

  const route = (req: http.IncomingMessage, body: string) => {
    const url = new URL(req.url ?? "/", "http://engine");
    const match = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const apiVersion = match?.[1];
    const path = match?.[2] ?? url.pathname;
    let parsed: unknown;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      parsed = undefined; // docker load's body is a tarball
    }
    requests.push({ method: req.method ?? "", path, ...(apiVersion ? { apiVersion } : {}), body: parsed });
    return { path, apiVersion, parsed, url };
  };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { path, apiVersion, parsed, url } = route(req, Buffer.concat(chunks).toString("utf8"));
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json", "Api-Version": ENGINE_API_VERSION });
      res.end(JSON.stringify(value));
    };
    if (path === "/_ping") {
      res.writeHead(200, {
        "Api-Version": ENGINE_API_VERSION,
        "Docker-Experimental": "false",
        Ostype: "linux",
        "Content-Type": "text/plain",
      });
      res.end(req.method === "HEAD" ? undefined : "OK");
      return;
    }
    if (apiVersion && older(apiVersion, ENGINE_MIN_API_VERSION)) {
      json(400, {
        message: `client version ${apiVersion} is too old. Minimum supported API version is ${ENGINE_MIN_API_VERSION}, please upgrade your client to a newer version`,
      });
      return;
    }
    if (path === "/version") {
      json(200, {
        Version: "29.1.0",
        ApiVersion: ENGINE_API_VERSION,
        MinAPIVersion: ENGINE_MIN_API_VERSION,
        Os: "linux",
        Arch: "amd64",
      });
      return;
    }
    if (path === "/images/load") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(`${JSON.stringify({ stream: `Loaded image ID: sha256:${"e".repeat(64)}\n` })}\n`);
      return;
    }
    if (/^\/images\/.+\/tag$/.test(path)) {
      res.writeHead(201);
      res.end();
      return;
    }
    if (path === "/containers/create") {
      const id = `c${created.length}${"0".repeat(63)}`.slice(0, 64);
      created.push((parsed ?? {}) as Record<string, unknown>);
      done.set(id, new Promise((resolve) => finished.set(id, resolve)));
      json(201, { Id: id, Warnings: [] });
      return;
    }
    const container = /^\/containers\/([^/]+)\/(start|wait|json)$/.exec(path);
    if (container) {
      const [, id = "", action] = container;
      const spec = created[Number(id.slice(1, 2))] ?? {};
      if (action === "start") {
        res.writeHead(204);
        res.end();
        // The "container" prints the command it was created with, then exits 0.
        const stream = attached.get(id);
        stream?.end(frame(1, `ran: ${((spec.Cmd as string[]) ?? []).join(" ")}\n`));
        finished.get(id)?.();
        return;
      }
      if (action === "wait") {
        // The engine answers at once and sends the exit status when the container stops: the client waits
        // for the headers before it starts the container.
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
        await done.get(id);
        res.end(JSON.stringify({ StatusCode: 0, Error: null }));
        return;
      }
      json(200, { Id: id, State: { Running: false, ExitCode: 0 }, Config: { Tty: false } });
      return;
    }
    json(404, { message: `fake engine: no route for ${req.method} ${url.pathname}` });
  });

  // `docker run` attaches before it starts the container: a hijacked connection carries the output.
  server.on("upgrade", (req: http.IncomingMessage, socket: Socket) => {
    const { path } = route(req, "");
    const id = /^\/containers\/([^/]+)\/attach$/.exec(path)?.[1] ?? "";
    socket.write(
      "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    );
    attached.set(id, socket);
  });

  server.listen(socketPath);
  await once(server, "listening");
  return {
    requests,
    created,
    close: async () => {
      for (const socket of attached.values()) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
