// A small recording HTTP server on loopback standing in for the auctioneer, a cell rep or a task
// callback URL: it records every request and answers with the status the test chose.
import { createServer, type IncomingMessage } from "node:http";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

export interface Recorder {
  url: string;
  requests: RecordedRequest[];
  /** Status (and optional delay) for the next requests; default 202. */
  respondWith(status: number | ((req: RecordedRequest) => number), delayMs?: number): void;
  waitFor(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const requests: RecordedRequest[] = [];
  let status: number | ((req: RecordedRequest) => number) = 202;
  let delayMs = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      requests.push(recorded);
      for (const w of waiters.filter((w) => requests.length >= w.count)) w.resolve();
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      res.writeHead(typeof status === "function" ? status(recorded) : status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(next, delay = 0) {
      status = next;
      delayMs = delay;
    },
    waitFor(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} requests, got ${requests.length}`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(requests)) });
      });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
