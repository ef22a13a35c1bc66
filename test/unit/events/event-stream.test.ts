// One subscriber's stream over an in-memory log: where it starts, framing, heartbeats, the slow
// subscriber policy, gaps and the end of a connection's time.
import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { LogEntry } from "../../../core/events/event-log";
import { startingPoint, streamEvents, type EventLogReader } from "../../../core/events/event-stream";
import { silentLogger } from "../../../core/logger";

/** The log as a subscriber sees it, in memory; `hide` makes an id temporarily unreadable. */
class MemoryLog implements EventLogReader {
  entries: LogEntry[] = [];
  hidden = new Set<number>();
  retainedFrom = 1;
  private listeners = new Set<() => void>();

  add(count: number): void {
    for (let i = 0; i < count; i++) {
      const id = this.entries.length + 1;
      this.entries.push({ id, kind: "event", type: "desired_lrp_created", payload: Uint8Array.from([0x0a, 0x01, id % 256]) });
    }
    for (const l of this.listeners) l();
  }
  async head() {
    return this.entries.length;
  }
  async read(after: number, upTo: number) {
    const out = new Map<number, LogEntry>();
    for (const e of this.entries) if (e.id > after && e.id <= upTo && !this.hidden.has(e.id)) out.set(e.id, e);
    return out;
  }
  async isRetained(id: number, head: number) {
    return id >= this.retainedFrom - 1 && id <= head;
  }
  onAppend(listener: () => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function collect(out: PassThrough): { text: () => string } {
  let text = "";
  out.setEncoding("utf8");
  out.on("data", (chunk: string) => (text += chunk));
  return { text: () => text };
}

const until = async (check: () => boolean, timeoutMs = 2_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("startingPoint", () => {
  it("starts new subscribers at the head, resumes retained ids, and asks for a relist otherwise", async () => {
    const log = new MemoryLog();
    log.add(10);
    log.retainedFrom = 4;
    expect(await startingPoint(log, undefined)).toEqual({ cursor: 10 });
    expect(await startingPoint(log, "")).toEqual({ cursor: 10 });
    expect(await startingPoint(log, "7")).toEqual({ cursor: 7 });
    expect(await startingPoint(log, "3")).toEqual({ cursor: 3 }); // nothing after 3 is gone
    for (const stale of ["2", "11", "abc", "1e3", "-4"]) {
      const start = await startingPoint(log, stale);
      expect(start.cursor).toBe(10);
      expect(start.relist?.id).toBe(10);
    }
  });
});

describe("streamEvents", () => {
  it("writes each entry as an id/event/data frame, in id order, then follows new appends", async () => {
    const log = new MemoryLog();
    log.add(3);
    const out = new PassThrough();
    const received = collect(out);
    const done = streamEvents(log, out, { cursor: 1 }, { maxDurationMs: 60_000, pollIntervalMs: 1_000 }, silentLogger);
    await until(() => received.text().split("\n\n").length > 2);
    log.add(1); // wakes the subscriber at once, well before its poll interval
    await until(() => received.text().includes("id: 4\n"), 500);
    out.destroy();
    expect(await done).toBe("closed");
    expect(received.text()).toBe(
      ["id: 2\nevent: desired_lrp_created\ndata: CgEC\n\n", "id: 3\nevent: desired_lrp_created\ndata: CgED\n\n", "id: 4\nevent: desired_lrp_created\ndata: CgEE\n\n"].join(""),
    );
  });

  it("starts with the relist event when the subscriber cannot resume", async () => {
    const log = new MemoryLog();
    const out = new PassThrough();
    const received = collect(out);
    const done = streamEvents(log, out, { cursor: 0, relist: { id: 0, message: "gone" } }, { maxDurationMs: 50 }, silentLogger);
    expect(await done).toBe("expired");
    expect(received.text()).toMatch(/^id: 0\nevent: relist\ndata: [A-Za-z0-9+/=]+\n\n$/);
    const data = Buffer.from(received.text().split("data: ")[1]!.trim(), "base64").toString("latin1");
    expect(data).toContain("RelistRequired");
    expect(data).toContain("gone");
  });

  it("sends a comment heartbeat when nothing else was written for the interval", async () => {
    const log = new MemoryLog();
    const out = new PassThrough();
    const received = collect(out);
    const done = streamEvents(log, out, { cursor: 0 }, { maxDurationMs: 400, pollIntervalMs: 10, heartbeatIntervalMs: 100 }, silentLogger);
    expect(await done).toBe("expired");
    const beats = received.text().split(": heartbeat\n\n").length - 1;
    expect(beats).toBeGreaterThanOrEqual(2);
    expect(beats).toBeLessThanOrEqual(4);
    expect(received.text().replaceAll(": heartbeat\n\n", "")).toBe("");
    expect(out.writableEnded).toBe(true);
  });

  it("drops a subscriber that stops reading, without holding up another one", async () => {
    const log = new MemoryLog();
    log.add(5);
    const stuck = new Writable({ highWaterMark: 64, write() {} }); // never acknowledges a chunk
    const healthy = new PassThrough();
    const received = collect(healthy);
    const options = { maxDurationMs: 60_000, pollIntervalMs: 10, slowSubscriberTimeoutMs: 200 };
    const slow = streamEvents(log, stuck, { cursor: 0 }, options, silentLogger);
    const fast = streamEvents(log, healthy, { cursor: 0 }, options, silentLogger);
    log.add(20);
    await until(() => received.text().includes("id: 25\n"), 1_000);
    expect(await slow).toBe("slow");
    expect(stuck.destroyed).toBe(true);
    healthy.destroy();
    expect(await fast).toBe("closed");
  });

  it("waits for an id that is not readable yet, and gives up on it with a relist after the gap timeout", async () => {
    const log = new MemoryLog();
    log.add(3);
    log.hidden.add(2);
    const out = new PassThrough();
    const received = collect(out);
    const done = streamEvents(log, out, { cursor: 0 }, { maxDurationMs: 60_000, pollIntervalMs: 10, gapTimeoutMs: 150 }, silentLogger);
    await until(() => received.text().includes("id: 1\n"));
    await new Promise((r) => setTimeout(r, 50));
    expect(received.text()).not.toContain("id: 3\n"); // never past a gap
    await until(() => received.text().includes("event: relist"), 1_000);
    log.add(1);
    await until(() => received.text().includes("id: 4\n"));
    out.destroy();
    await done;
    expect(received.text().match(/^id: \d+$/gm)).toEqual(["id: 1", "id: 3", "id: 4"]);
  });

  it("ends cleanly when its time is up, so the client reconnects with Last-Event-ID", async () => {
    const log = new MemoryLog();
    const out = new PassThrough();
    collect(out);
    const started = Date.now();
    // Were the duration ignored, this would wait for the test's own timeout and fail there.
    expect(await streamEvents(log, out, { cursor: 0 }, { maxDurationMs: 120, pollIntervalMs: 50 }, silentLogger)).toBe("expired");
    expect(Date.now() - started).toBeGreaterThanOrEqual(120);
    expect(out.writableEnded).toBe(true);
  });
});
