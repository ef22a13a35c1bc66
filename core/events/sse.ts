// Server-sent event framing of GET /v1/events (wire §8.1): `id`, `event`, `data` lines ended by LF, a
// blank line after each frame, `data` the standard base64 (with padding) of the protobuf event.
import { create } from "@bufbuild/protobuf";
import { ErrorSchema } from "../gen/models/error_pb";
import { encodeMessage } from "../models/codec";

/** Response headers, in the order the original added them. */
export const EventStreamHeaders = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-store, must-revalidate",
  Connection: "keep-alive",
} as const;

/** Not a BBS event: tells the client that events were lost to it and it must list again (EVENTS.md). */
export const RelistEventName = "relist";
/** The Error.type carried by a relist event. */
export const RelistErrorType = "RelistRequired";

export function sseFrame(id: string, event: string, data: Uint8Array): string {
  return `id: ${id}\nevent: ${event}\ndata: ${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64")}\n\n`;
}

/** `data` is a models.Error {type: "RelistRequired", message} so that it is never empty. */
export function relistFrame(id: string, message: string): string {
  return sseFrame(id, RelistEventName, encodeMessage(ErrorSchema, create(ErrorSchema, { type: RelistErrorType, message })));
}

export const HeartbeatFrame = ": heartbeat\n\n";
