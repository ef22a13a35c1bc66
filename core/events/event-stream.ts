// One subscriber's GET /v1/events: where it starts (Last-Event-ID), then a long-poll of the event log
// written as SSE frames until the client leaves, is too slow, or the connection's time is up.
import type { Writable } from "node:stream";
import type { Logger } from "../logger";
import type { EventLog } from "./event-log";

/** The part of the EventLog a subscriber uses. */
export type EventLogReader = Pick<EventLog, "head" | "read" | "isRetained" | "onAppend">;
import { HeartbeatFrame, relistFrame, sseFrame } from "./sse";

export const EventStreamDefaults = {
  /** How often an idle connection looks at the log head. */
  pollIntervalMs: 100,
  /** A comment line after this long without any other write. */
  heartbeatIntervalMs: 15_000,
  /** A subscriber whose connection does not take the next frame within this long is dropped. */
  slowSubscriberTimeoutMs: 10_000,
  /** An id at or below the head still unreadable after this long is given up (relist). */
  gapTimeoutMs: 5_000,
  /** Ids read per step while catching up. */
  readBatch: 1_000,
  /** Consecutive failed log reads before the connection is ended (the client resumes). */
  maxReadFailures: 20,
} as const;

export interface EventStreamOptions {
  /** The connection ends (cleanly; the client reconnects with Last-Event-ID) after this long. */
  maxDurationMs: number;
  pollIntervalMs?: number;
  heartbeatIntervalMs?: number;
  slowSubscriberTimeoutMs?: number;
  gapTimeoutMs?: number;
  readBatch?: number;
  nowMs?: () => number;
}

export interface StreamStart {
  /** Frames begin after this id. */
  cursor: number;
  /** Set when the client cannot resume: a relist event with this id and message comes first. */
  relist?: { id: number; message: string };
}

/**
 * Where a subscriber starts. No (or an empty) Last-Event-ID: at the head, i.e. with the next event.
 * A retained id: right after it. Anything else — older than what is retained, never handed out, not
 * an id — gets a relist event carrying the head's id, then the events after the head.
 */
export async function startingPoint(log: EventLogReader, lastEventId: string | undefined): Promise<StreamStart> {
  const head = await log.head();
  const text = lastEventId?.trim() ?? "";
  if (text === "") return { cursor: head };
  const id = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isNaN(id) && (await log.isRetained(id, head))) return { cursor: id };
  return {
    cursor: head,
    relist: {
      id: head,
      message: `events after ${JSON.stringify(text)} are no longer retained: list again, then expect events after id ${head}`,
    },
  };
}

export type StreamEnd = "closed" | "expired" | "slow" | "failing";

function waitForDrain(out: Writable, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (drained: boolean) => {
      clearTimeout(timer);
      out.off("drain", onDrain);
      out.off("close", onClose);
      resolve(drained);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    out.on("drain", onDrain);
    out.on("close", onClose);
  });
}

/** Waits `ms`, or less when the client leaves or this process appends to the log. */
function pause(out: Writable, ms: number, log?: EventLogReader): Promise<void> {
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    const done = () => {
      clearTimeout(timer);
      out.off("close", done);
      unsubscribe?.();
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    out.on("close", done);
    unsubscribe = log?.onAppend(done);
  });
}

/**
 * Writes the log's events after `start.cursor` to `out` as SSE frames, in id order, until the client
 * goes away ("closed"), the connection's time is up ("expired", `out` is ended), the client does not
 * keep up ("slow", `out` is destroyed), or the log cannot be read ("failing", `out` is ended).
 */
export async function streamEvents(
  log: EventLogReader,
  out: Writable,
  start: StreamStart,
  options: EventStreamOptions,
  logger: Logger,
): Promise<StreamEnd> {
  const now = options.nowMs ?? Date.now;
  const pollIntervalMs = options.pollIntervalMs ?? EventStreamDefaults.pollIntervalMs;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? EventStreamDefaults.heartbeatIntervalMs;
  const slowTimeoutMs = options.slowSubscriberTimeoutMs ?? EventStreamDefaults.slowSubscriberTimeoutMs;
  const gapTimeoutMs = options.gapTimeoutMs ?? EventStreamDefaults.gapTimeoutMs;
  const readBatch = options.readBatch ?? EventStreamDefaults.readBatch;
  const deadline = now() + options.maxDurationMs;
  const closed = () => out.destroyed || out.writableEnded;

  let cursor = start.cursor;
  let lastWrite = now();
  let gapSince: number | undefined;
  let failures = 0;
  let dropped = false;

  /** False when the frame could not be handed over: the client left, or was dropped for being slow. */
  const write = async (frame: string): Promise<boolean> => {
    if (closed()) return false;
    lastWrite = now();
    if (out.write(frame)) return true;
    if (await waitForDrain(out, slowTimeoutMs)) return true;
    if (!closed()) {
      logger.info("event-subscriber-too-slow", { cursor });
      dropped = true;
      out.destroy();
    }
    return false;
  };
  const stopped = (): StreamEnd => (dropped ? "slow" : "closed");

  if (start.relist && !(await write(relistFrame(String(start.relist.id), start.relist.message)))) return stopped();

  while (!closed()) {
    if (now() >= deadline) {
      out.end();
      return "expired";
    }
    try {
      // Reads of the head by connections in the same process are shared.
      const head = await log.head(pollIntervalMs / 2);
      let stalled = false;
      while (cursor < head && !stalled && !closed()) {
        const upTo = Math.min(head, cursor + readBatch);
        const entries = await log.read(cursor, upTo);
        for (let id = cursor + 1; id <= upTo; id++) {
          const entry = entries.get(id);
          if (!entry) {
            stalled = true;
            break;
          }
          gapSince = undefined;
          cursor = id;
          const frame = entry.kind === "event" ? sseFrame(String(id), entry.type, entry.payload) : relistFrame(String(id), entry.reason);
          if (!(await write(frame))) return stopped();
        }
      }
      if (stalled) {
        gapSince ??= now();
        if (now() - gapSince >= gapTimeoutMs) {
          // Never skip silently: the subscriber is told to list again, then continues after the head.
          logger.error("event-log-gap", undefined, { after: cursor, head });
          gapSince = undefined;
          cursor = head;
          if (!(await write(relistFrame(String(head), `events up to id ${head} could not be read: list again`)))) return stopped();
        }
      }
      failures = 0;
    } catch (error) {
      failures++;
      logger.error("failed-to-read-event-log", error, { cursor, failures });
      if (failures >= EventStreamDefaults.maxReadFailures) {
        out.end();
        return "failing";
      }
      await pause(out, Math.min(1000 * failures, 5000));
      continue;
    }
    if (now() - lastWrite >= heartbeatIntervalMs && !(await write(HeartbeatFrame))) return stopped();
    await pause(out, Math.min(pollIntervalMs, deadline - now()), log);
  }
  return stopped();
}
