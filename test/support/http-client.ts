// A raw HTTP client on node:http: the BBS has a GET route with a body, which fetch cannot send.
import { request } from "node:http";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
  text: string;
}

export function send(url: string, method: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
    const req = request(
      url,
      {
        method,
        headers: {
          "Content-Type": "application/x-protobuf",
          ...(payload ? { "Content-Length": String(payload.length) } : { "Content-Length": "0" }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: new Uint8Array(buf), text: buf.toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** POST a protobuf body as the Go client does. */
export const post = (base: string, path: string, body: Uint8Array = new Uint8Array(0), headers?: Record<string, string>) =>
  send(`${base}${path}`, "POST", body, headers);
