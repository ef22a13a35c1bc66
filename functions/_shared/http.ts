// The HTTP envelope of the BBS over API Gateway HTTP API (payload v2) events: request ids, bodies
// (binary bodies arrive base64-encoded), and responses that are always HTTP 200 with the outcome,
// errors included, in the protobuf (or JSON) body.
import { gzipSync } from "node:zlib";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const PROTOBUF = "application/x-protobuf";
export const JSON_TYPE = "application/json";
const REQUEST_ID = "x-cf-requestid";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The request id the caller sent, when it is a UUID; otherwise a fresh one (as dropsonde did). */
export function requestIdOf(event: HttpEvent): string {
  const sent = header(event, REQUEST_ID);
  return sent && UUID.test(sent) ? sent.toLowerCase() : crypto.randomUUID();
}

export function wantsJSON(event: HttpEvent): boolean {
  const type = header(event, "content-type") ?? "";
  return type.split(";")[0]?.trim().toLowerCase() === JSON_TYPE;
}

export function bodyBytes(event: HttpEvent): Uint8Array {
  if (!event.body) return new Uint8Array(0);
  return event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
}

/** Size of the body as sent, known before decoding base64. */
export function bodyLength(event: HttpEvent): number {
  if (!event.body) return 0;
  return event.isBase64Encoded ? Math.floor((event.body.length * 3) / 4) : Buffer.byteLength(event.body, "utf8");
}

/**
 * Bodies from this size on are gzipped for a caller that accepts it. Go's http.Client asks for gzip
 * unless told not to and inflates the answer itself, so the BBS client gets it unchanged; and a
 * Lambda can return at most 6 MB, which a list of some 6,500 desired LRPs already exceeds.
 */
export const GzipAboveBytes = 1024 * 1024;

/** Accept-Encoding names gzip (or `*`) without `q=0`. */
export function acceptsGzip(event: HttpEvent): boolean {
  const accepted = header(event, "accept-encoding");
  if (!accepted) return false;
  return accepted.split(",").some((part) => {
    const [coding, ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    if (coding !== "gzip" && coding !== "*") return false;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** How a result may be encoded for this caller. */
export interface Encoding {
  gzip: boolean;
}

function bodyResult(contentType: string, bytes: Uint8Array, requestId: string, encoding: Encoding, text?: string): HttpResult {
  const headers: Record<string, string> = { "Content-Type": contentType, "X-Cf-Requestid": requestId };
  if (encoding.gzip && bytes.byteLength >= GzipAboveBytes) {
    headers["Content-Encoding"] = "gzip";
    headers.Vary = "Accept-Encoding";
    // Level 1, the fastest: the 34 MB list of the benchmark took 34 ms, less than base64 of it.
    return { statusCode: 200, headers, body: gzipSync(bytes, { level: 1 }).toString("base64"), isBase64Encoded: true };
  }
  if (text !== undefined) return { statusCode: 200, headers, body: text, isBase64Encoded: false };
  // A view, not a copy: list responses run to megabytes.
  return { statusCode: 200, headers, body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"), isBase64Encoded: true };
}

export function protobufResult(bytes: Uint8Array, requestId: string, encoding: Encoding = { gzip: false }): HttpResult {
  return bodyResult(PROTOBUF, bytes, requestId, encoding);
}

export function jsonResult(text: string, requestId: string, encoding: Encoding = { gzip: false }): HttpResult {
  // Only a body that may be gzipped is worth turning into bytes.
  const bytes = encoding.gzip && text.length >= GzipAboveBytes / 4 ? Buffer.from(text, "utf8") : new Uint8Array(0);
  return bodyResult(JSON_TYPE, bytes, requestId, encoding, text);
}

export function textResult(statusCode: number, text: string, requestId: string, extra: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { "Content-Type": "text/plain; charset=utf-8", "X-Cf-Requestid": requestId, ...extra },
    body: text,
    isBase64Encoded: false,
  };
}
