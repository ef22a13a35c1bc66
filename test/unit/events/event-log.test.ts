// The event log on DynamoDB Local: dense ids in append order, exactly-once appends under redelivery
// and concurrent appenders, reads by another process (no shared cache), retention.
import { describe, expect, it } from "vitest";
import { ManualClock, systemClock, type Clock } from "../../../core/clock";
import { EventLog, EventLogAppendError, MaxEntryPayloadBytes, type LogItem } from "../../../core/events/event-log";
import { DynamoStore } from "../../../core/store/dynamo-store";
import type { Store, StoreOp } from "../../../core/store/store";
import { freshStore, testClient } from "../../support/dynamo";

const item = (n: string | number, size = 8): LogItem => ({
  dedupeId: `change-${n}`,
  type: "actual_lrp_changed",
  payload: new Uint8Array(size).fill(Number(String(n).replace(/\D/g, "")) % 251),
  key: `/v1/actual/pg-${n}/0/instance`,
});

/** Another process's view of the same table: its own store object, so nothing cached is shared. */
function otherProcess(_store: DynamoStore, tableName: string, clock: Clock = systemClock): DynamoStore {
  return new DynamoStore({ client: testClient().client, tableName, clock });
}

describe("EventLog", () => {
  it("hands out dense ids in append order and reads them back one by one or a bucket at a time", async () => {
    const { store, tableName } = await freshStore();
    const log = new EventLog(store, { bucketSize: 10 });
    expect(await log.head()).toBe(0);
    await log.append(Array.from({ length: 60 }, (_, i) => item(i)));
    expect(await log.head()).toBe(60);

    const reader = new EventLog(otherProcess(store, tableName), { bucketSize: 10 });
    expect(await reader.head()).toBe(60);
    const few = await reader.read(3, 7); // direct gets
    expect([...few.keys()]).toEqual([4, 5, 6, 7]);
    const many = await reader.read(5, 47); // across five buckets
    expect([...many.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 42 }, (_, i) => 6 + i));
    const entry = many.get(6)!;
    expect(entry).toMatchObject({ kind: "event", type: "actual_lrp_changed" });
    if (entry.kind !== "event") throw new Error("unreachable");
    expect(entry.payload).toEqual(item(5).payload);
  });

  it("appends a redelivered change once, however the batches overlap", async () => {
    const { store, tableName } = await freshStore();
    const log = new EventLog(store);
    await log.append([item("a"), item("b")]);
    await log.append([item("a"), item("b")]);
    expect(await log.head()).toBe(2);
    await log.append([item("b"), item("c"), item("a"), item("d")]);
    expect(await log.head()).toBe(4);
    // A fresh process (no memory of earlier appends) dedupes through the markers alone.
    await new EventLog(otherProcess(store, tableName)).append([item("c"), item("d"), item("e")]);
    expect(await new EventLog(otherProcess(store, tableName)).head()).toBe(5);
    const entries = await new EventLog(otherProcess(store, tableName)).read(0, 5);
    expect([...entries.keys()]).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps ids dense and each appender's order when several append at once (shards on AWS)", async () => {
    const { store, tableName } = await freshStore();
    const appenders = Array.from({ length: 4 }, () => new EventLog(otherProcess(store, tableName)));
    await Promise.all(
      appenders.map(async (log, a) => {
        for (let batch = 0; batch < 5; batch++) {
          await log.append(
            Array.from({ length: 5 }, (_, i) => ({ ...item(`${a}-${batch * 5 + i}`), payload: Uint8Array.from([a, batch * 5 + i]) })),
          );
        }
      }),
    );
    const reader = new EventLog(otherProcess(store, tableName));
    expect(await reader.head()).toBe(100);
    const entries = await reader.read(0, 100);
    expect(entries.size).toBe(100);
    // The payload names appender and position; within one appender ids follow its order.
    const ids = new Map<string, number>();
    for (const [id, entry] of entries) if (entry.kind === "event") ids.set(`${entry.payload[0]}/${entry.payload[1]}`, id);
    expect(ids.size).toBe(100);
    for (let a = 0; a < 4; a++) {
      const order = Array.from({ length: 25 }, (_, k) => ids.get(`${a}/${k}`)!);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });

  it("turns an event too large to keep into a relist entry rather than blocking", async () => {
    const { store } = await freshStore();
    const log = new EventLog(store);
    await log.append([item("small"), item("huge", MaxEntryPayloadBytes + 1)]);
    const entries = await new EventLog(store).read(0, 2);
    expect(entries.get(1)?.kind).toBe("event");
    expect(entries.get(2)).toMatchObject({ kind: "relist" });
  });

  it("says how many events are durable when a write fails midway", async () => {
    const { store } = await freshStore();
    let transactions = 0;
    const failing: Store = Object.assign(Object.create(store) as Store, {
      transact: (ops: readonly StoreOp[]) => (++transactions === 2 ? Promise.reject(new Error("throttled")) : store.transact(ops)),
    });
    const items = Array.from({ length: 60 }, (_, i) => item(i)); // 49 per transaction
    const error = await new EventLog(failing).append(items).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventLogAppendError);
    expect((error as EventLogAppendError).appended).toBe(49);
    await new EventLog(store).append(items.slice(49)); // the redelivery from the failed change
    expect(await new EventLog(store).head()).toBe(60);
  });

  describe("retention", () => {
    it("lets a subscriber resume from a retained id, not from an expired, a future or a too old one", async () => {
      const clock = new ManualClock(Date.now());
      const { store, tableName } = await freshStore({ clock });
      const log = new EventLog(store, { retainedEvents: 3 });
      await log.append([item(1), item(2), item(3), item(4), item(5)]);
      expect(await log.isRetained(5, 5)).toBe(true);
      expect(await log.isRetained(2, 5)).toBe(true);
      expect(await log.isRetained(1, 5)).toBe(false); // more than 3 events back
      expect(await log.isRetained(6, 5)).toBe(false); // never handed out
      expect(await log.isRetained(0, 0)).toBe(true); // an empty log

      clock.advance(24 * 3600_000 + 10 * 60_000); // past the retention and its margin
      const later = new EventLog(otherProcess(store, tableName, clock), { retainedEvents: 3 });
      expect(await later.isRetained(3, 5)).toBe(false);
      expect(await later.isRetained(5, 5)).toBe(true); // nothing after it to miss
    });
  });
});
