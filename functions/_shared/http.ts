// The HTTP envelope of the BBS over API Gateway HTTP API (payload v2) events: request ids, bodies
// (binary bodies arrive base64-encoded), and responses that are always HTTP 200 with the outcome,
// errors included, in the protobuf (or JSON) body.
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

export function protobufResult(bytes: Uint8Array, requestId: string): HttpResult {
  return {
    statusCode: 200,
    headers: { "Content-Type": PROTOBUF, "X-Cf-Requestid": requestId },
    // A view, not a copy: list responses run to megabytes.
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
    isBase64Encoded: true,
  };
}

export function jsonResult(text: string, requestId: string): HttpResult {
  return {
    statusCode: 200,
    headers: { "Content-Type": JSON_TYPE, "X-Cf-Requestid": requestId },
    body: text,
    isBase64Encoded: false,
  };
}

export function textResult(statusCode: number, text: string, requestId: string, extra: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { "Content-Type": "text/plain; charset=utf-8", "X-Cf-Requestid": requestId, ...extra },
    body: text,
    isBase64Encoded: false,
  };
}
