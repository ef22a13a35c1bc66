// A minimal server-sent events client for the tests, written from the SSE rules go-sse follows (lines
// end in LF or CRLF, `:` starts a comment, `field: value` loses one leading space, a blank line
// dispatches, frames without data are dropped), sharing no code with the server. It keeps every raw
// byte so tests can check the framing exactly, and decodes the BBS payloads by protobuf field number.
import { request, type IncomingHttpHeaders } from "node:http";
import { all, first, int32, num, readFields, str, sub, type Field } from "./proto-wire";

export interface SSEFrame {
  id?: string;
  event?: string;
  data: string;
  /** The frame exactly as it came, blank line included. */
  raw: string;
}

export interface SSEConnection {
  status: number;
  headers: IncomingHttpHeaders;
  frames: SSEFrame[];
  comments: string[];
  /** Everything received, as text. */
  text(): string;
  /** Resolves with the first `count` frames (counting from the start of the connection). */
  waitForFrames(count: number, timeoutMs?: number): Promise<SSEFrame[]>;
  /** Resolves once a frame matches, with that frame. */
  waitFor(predicate: (frame: SSEFrame) => boolean, timeoutMs?: number): Promise<SSEFrame>;
  /** Resolves when the server ends the response (or the connection breaks). */
  ended: Promise<"end" | "error">;
  close(): void;
}

export function connectSSE(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<SSEConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { Accept: "text/event-stream", ...headers } }, (res) => {
      const frames: SSEFrame[] = [];
      const comments: string[] = [];
      let received = "";
      let pending = "";
      let block: string[] = [];
      let fields: { id?: string; event?: string; data: string[] } = { data: [] };
      const listeners = new Set<() => void>();
      let resolveEnded!: (how: "end" | "error") => void;
      const ended = new Promise<"end" | "error">((r) => (resolveEnded = r));

      const dispatch = () => {
        const raw = `${block.join("")}`;
        if (fields.data.length > 0) {
          const frame: SSEFrame = { data: fields.data.join("\n"), raw };
          if (fields.id !== undefined) frame.id = fields.id;
          if (fields.event !== undefined) frame.event = fields.event;
          frames.push(frame);
        }
        fields = { data: [] };
        block = [];
        for (const l of listeners) l();
      };

      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        received += chunk;
        pending += chunk;
        for (;;) {
          const match = /\r\n|\n|\r/.exec(pending);
          if (!match) break;
          const line = pending.slice(0, match.index);
          block.push(pending.slice(0, match.index + match[0].length));
          pending = pending.slice(match.index + match[0].length);
          if (line === "") {
            dispatch();
            continue;
          }
          if (line.startsWith(":")) {
            comments.push(line.slice(1).trim());
            continue;
          }
          const colon = line.indexOf(":");
          const name = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (name === "id") fields.id = value;
          else if (name === "event") fields.event = value;
          else if (name === "data") fields.data.push(value);
        }
        for (const l of listeners) l();
      });
      res.on("end", () => resolveEnded("end"));
      res.on("error", () => resolveEnded("error"));
      res.on("close", () => resolveEnded("error"));

      const waitUntil = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
        new Promise((ok, fail) => {
          const done = check();
          if (done !== undefined) return ok(done);
          const timer = setTimeout(() => {
            listeners.delete(listener);
            fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; have ${frames.length} frames: ${frames.map((f) => `${f.id}:${f.event}`).join(" ")}`));
          }, timeoutMs);
          const listener = () => {
            const value = check();
            if (value === undefined) return;
            clearTimeout(timer);
            listeners.delete(listener);
            ok(value);
          };
          listeners.add(listener);
        });

      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        comments,
        text: () => received,
        waitForFrames: (count, timeoutMs = 10_000) =>
          waitUntil(() => (frames.length >= count ? frames.slice(0, count) : undefined), timeoutMs, `${count} frames`),
        waitFor: (predicate, timeoutMs = 10_000) => waitUntil(() => frames.find(predicate), timeoutMs, "a matching frame"),
        ended,
        close: () => {
          req.destroy();
          res.destroy();
        },
      });
    });
    req.on("error", reject);
    req.end();
  });
}

// ---- BBS payloads, by field number (bbs-wire §4.3, §4.6, §4.12) ----

export const payloadOf = (frame: SSEFrame) => new Uint8Array(Buffer.from(frame.data, "base64"));

export interface WireActualLRP {
  processGuid: string;
  index: number;
  domain: string;
  instanceGuid: string;
  cellId: string;
  state: string;
  crashCount: number;
  since: bigint;
}

export interface WireGroup {
  instance?: WireActualLRP;
  evacuating?: WireActualLRP;
}

function actualLRP(fields: Map<number, Field[]>): WireActualLRP {
  const key = sub(first(fields, 1));
  const instanceKey = sub(first(fields, 2));
  return {
    processGuid: str(first(key, 1)) ?? "",
    index: int32(first(key, 2)) ?? 0,
    domain: str(first(key, 3)) ?? "",
    instanceGuid: str(first(instanceKey, 1)) ?? "",
    cellId: str(first(instanceKey, 2)) ?? "",
    crashCount: int32(first(fields, 4)) ?? 0,
    state: str(first(fields, 6)) ?? "",
    since: num(first(fields, 8)) ?? 0n,
  };
}

export function groupOf(field: Field | undefined): WireGroup | undefined {
  if (!field) return undefined;
  const g = sub(field);
  const group: WireGroup = {};
  if (first(g, 1)) group.instance = actualLRP(sub(first(g, 1)));
  if (first(g, 2)) group.evacuating = actualLRP(sub(first(g, 2)));
  return group;
}

export interface WireDesiredLRP {
  processGuid: string;
  domain: string;
  instances: number;
  annotation?: string;
}

export function desiredOf(field: Field | undefined): WireDesiredLRP | undefined {
  if (!field) return undefined;
  const d = sub(field);
  return {
    processGuid: str(first(d, 1)) ?? "",
    domain: str(first(d, 2)) ?? "",
    instances: int32(first(d, 4)) ?? 0,
    annotation: str(first(d, 19)),
  };
}

/** The event message of a frame: `single` for created/removed, `before`/`after` for changed. */
export function decodeFrame(frame: SSEFrame) {
  const fields = readFields(payloadOf(frame));
  const type = frame.event ?? "";
  if (type.startsWith("actual_lrp_")) {
    return type === "actual_lrp_changed"
      ? { type, before: groupOf(first(fields, 1)), after: groupOf(first(fields, 2)), fieldCount: [...fields.keys()] }
      : { type, group: groupOf(first(fields, 1)), fieldCount: [...fields.keys()] };
  }
  if (type.startsWith("desired_lrp_")) {
    return type === "desired_lrp_changed"
      ? { type, beforeDesired: desiredOf(first(fields, 1)), afterDesired: desiredOf(first(fields, 2)), fieldCount: [...fields.keys()] }
      : { type, desired: desiredOf(first(fields, 1)), fieldCount: [...fields.keys()] };
  }
  if (type === "relist") {
    return { type, errorType: str(first(fields, 1)), message: str(first(fields, 2)), fieldCount: [...fields.keys()] };
  }
  return { type, fieldCount: all(fields, 1).length ? [1] : [] };
}
