// DynamoStore against a real DynamoDB Local: the shared store contract, then what only this adapter
// promises (item layout, sharding, versions, the label guard, size checks before any call).
import { DescribeTableCommand, DescribeTimeToLiveCommand, GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../core/clock";
import { DynamoStore, fnv1a32, locateKey } from "../../core/store/dynamo-store";
import { Attr, createStoreTable, DefaultShards, makeDynamoDBClient } from "../../core/store/dynamo-table";
import { CompareFailedError, KeyNotFoundError, ValueTooLargeError } from "../../core/store/errors";
import { actualLRPInstanceKey, desiredLRPKey, domainKey, evacuatingActualLRPKey, taskKey } from "../../core/store/keys";
import { bulkLoad, freshStore } from "../support/dynamo";
import { describeStoreContract, rejection } from "./store-contract";

describeStoreContract("DynamoStore", async (clock) => (await freshStore({ clock })).store, {
  load: (store, nodes) => bulkLoad(store as DynamoStore, nodes),
});

const bytes = (text: string) => new TextEncoder().encode(text);

async function rawItem(fresh: Awaited<ReturnType<typeof freshStore>>, key: string) {
  const { pk, sk } = locateKey(key);
  const { Item } = await fresh.sdk.send(
    new GetItemCommand({ TableName: fresh.tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
  );
  return Item;
}


describe("createStoreTable", () => {
  it("creates the table as specified, and accepts an existing one", async () => {
    const fresh = await freshStore({ stream: true });
    await createStoreTable(fresh.client, fresh.tableName);
    const { Table } = await fresh.sdk.send(new DescribeTableCommand({ TableName: fresh.tableName }));
    expect(Table?.TableStatus).toBe("ACTIVE");
    expect(Table?.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" });
    expect(Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    const expiry = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === "expiry");
    expect(expiry?.KeySchema).toEqual([
      { AttributeName: "ttlShard", KeyType: "HASH" },
      { AttributeName: "expiresAtMs", KeyType: "RANGE" },
    ]);
    expect(expiry?.Projection?.ProjectionType).toBe("INCLUDE");
    const { TimeToLiveDescription } = await fresh.sdk.send(new DescribeTimeToLiveCommand({ TableName: fresh.tableName }));
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: "ENABLED", AttributeName: "expiresAt" });
  });
});

describe("DynamoStore", () => {
  describe("key layout", () => {
    it("puts a node at <root>#<shard of the guid> / <path below the root>", () => {
      const shard = String(fnv1a32("pg-1") % 16).padStart(2, "0");
      expect(locateKey("/v1/actual/pg-1/0/instance")).toEqual({
        pk: `/v1/actual#${shard}`,
        sk: "pg-1/0/instance",
        root: "/v1/actual",
        shard: Number(shard),
      });
      expect(locateKey("/v1/desired/pg-1").pk).toBe(`/v1/desired#${shard}`);
      expect(locateKey("/v1/task/t", 4).pk).toMatch(/^\/v1\/task#[0-3]$/);
      expect(locateKey("/v1/task/t", 100).pk).toMatch(/^\/v1\/task#\d\d$/);
    });

    it("uses FNV-1a (stable across processes)", () => {
      expect(fnv1a32("")).toBe(0x811c9dc5);
      expect(fnv1a32("a")).toBe(0xe40c292c);
      expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    });

    it("rejects keys that are not below a root", async () => {
      const { store } = await freshStore();
      for (const bad of ["/v1/desired", "v1/desired/x", "/v1//x", "/v1/desired/x/", ""]) {
        expect(await rejection(store.set(bad, bytes("")))).toBeInstanceOf(RangeError);
      }
    });

    it("stores one readable item per node, with labels as l_<name> strings and TTL attributes only with a TTL", async () => {
      // In the future: DynamoDB Local's TTL reaper does delete items of this table whose expiresAt has
      // passed in real time, so a past date would let it remove the node in the middle of the test.
      const clock = new ManualClock(4_102_444_800_123); // 2100-01-01T00:00:00.123Z
      const fresh = await freshStore({ clock });
      const key = evacuatingActualLRPKey("pg-1", 2);
      await fresh.store.create(key, bytes("payload"), { ttlSeconds: 30, labels: { domain: "cf-apps", cell_id: "c1" } });

      const item = (await rawItem(fresh, key))!;
      const { pk, sk, shard } = locateKey(key);
      expect(item.pk).toEqual({ S: pk });
      expect(item.sk).toEqual({ S: sk });
      expect(item.key).toEqual({ S: key });
      expect(new TextDecoder().decode(item.value!.B)).toBe("payload");
      expect(item.version?.N).toMatch(/^\d+$/);
      expect(item.l_domain).toEqual({ S: "cf-apps" });
      expect(item.l_cell_id).toEqual({ S: "c1" });
      expect(item.expiresAtMs).toEqual({ N: String(4_102_444_830_123) });
      expect(item.expiresAt).toEqual({ N: String(4_102_444_831) }); // seconds, rounded up
      expect(item.ttlShard).toEqual({ S: `ttl#${String(shard).padStart(2, "0")}` });

      const node = await fresh.store.get(key);
      await fresh.store.compareAndSwap(key, bytes("payload"), node.version, { labels: { domain: "cf-apps" } });
      const after = (await rawItem(fresh, key))!;
      for (const attr of ["expiresAtMs", "expiresAt", "ttlShard", "l_cell_id"]) expect(after[attr]).toBeUndefined();
      expect(after.l_domain).toEqual({ S: "cf-apps" });
    });

    it("spreads a root over every shard and lists all of them in one call", async () => {
      const fresh = await freshStore();
      const guids: string[] = [];
      const covered = new Set<number>();
      for (let i = 0; covered.size < DefaultShards; i++) {
        const shard = locateKey(desiredLRPKey(`g${i}`)).shard;
        if (!covered.has(shard)) {
          covered.add(shard);
          guids.push(`g${i}`);
        }
      }
      for (const guid of guids) await fresh.store.create(desiredLRPKey(guid), bytes(guid));

      for (let shard = 0; shard < DefaultShards; shard++) {
        const { Count } = await fresh.sdk.send(
          new QueryCommand({
            TableName: fresh.tableName,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": { S: `/v1/desired#${String(shard).padStart(2, "0")}` } },
          }),
        );
        expect(Count).toBe(1);
      }
      const listed = await fresh.store.list("/v1/desired", { recursive: true });
      expect(listed.map((n) => n.key).sort()).toEqual(guids.map(desiredLRPKey).sort());
      // A prefix above the roots enumerates the known roots.
      expect((await fresh.store.list("/v1", { recursive: true })).length).toBe(DefaultShards);
      expect(await fresh.store.list("/v1")).toEqual([]);
    });

    it("works with another shard count", async () => {
      const { store } = await freshStore({ shards: 3 });
      for (let i = 0; i < 20; i++) await store.create(taskKey(`t${i}`), bytes(""));
      expect(await store.list("/v1/task")).toHaveLength(20);
    });
  });

  describe("versions", () => {
    it("start a brand-new key from a time-based base and count up by one per write", async () => {
      const clock = new ManualClock(1_767_225_600_000);
      const { store } = await freshStore({ clock });
      const created = await store.create(taskKey("t"), bytes("a"));
      expect(created.version).toBeGreaterThanOrEqual(1_767_225_600_000 * 1000 + 1);
      expect(created.version).toBeLessThanOrEqual(1_767_225_600_000 * 1000 + 1000);
      const set = await store.set(taskKey("t"), bytes("b"));
      expect(set.version).toBe(created.version + 1);
      const swapped = await store.compareAndSwap(taskKey("t"), bytes("c"), set.version);
      expect(swapped.version).toBe(created.version + 2);
    });

    it("continue from the old version when an expired item is re-created, and restart after a delete", async () => {
      // In the future, so that DynamoDB Local's TTL reaper leaves the expired item to the store.
      const clock = new ManualClock(4_102_444_800_000);
      const { store } = await freshStore({ clock });
      const first = await store.create(domainKey("d"), bytes(""), { ttlSeconds: 1 });
      clock.advance(1_000);
      const second = await store.create(domainKey("d"), bytes(""));
      expect(second.version).toBe(first.version + 1);

      clock.advance(60_000);
      await store.delete(domainKey("d"));
      const third = await store.create(domainKey("d"), bytes(""));
      expect(third.version).toBeGreaterThanOrEqual(clock.nowMs() * 1000 + 1);
      expect(third.version - second.version).toBeGreaterThan(1_000);
    });
  });

  describe("labels", () => {
    it("removes labels a fresh store instance has never seen (learnt from the failed guard, then retried)", async () => {
      const fresh = await freshStore();
      const key = actualLRPInstanceKey("pg-1", 0);
      await fresh.store.create(key, bytes("claimed"), { labels: { domain: "d", cell_id: "c1", zone: "z1" } });

      const other = new DynamoStore({ client: fresh.client, tableName: fresh.tableName });
      const node = await other.set(key, bytes("unclaimed"), { labels: { domain: "d" } });
      expect(node.labels).toEqual({ domain: "d" });
      const item = (await rawItem(fresh, key))!;
      expect(item.l_cell_id).toBeUndefined();
      expect(item.l_zone).toBeUndefined();
      expect(item.labelNames).toEqual({ S: "domain" });

      const third = new DynamoStore({ client: fresh.client, tableName: fresh.tableName });
      await fresh.store.set(key, bytes("claimed"), { labels: { cell_id: "c2" } });
      await third.transact([{ op: "set", key, value: bytes("t"), options: { labels: { domain: "d2" } } }]);
      expect((await fresh.store.get(key)).labels).toEqual({ domain: "d2" });
    });

    it("still replaces the label set when more names are known than the guard enumerates", async () => {
      const { store } = await freshStore();
      const key = taskKey("many");
      const labels = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`n${i}`, `v${i}`]));
      const created = await store.create(key, bytes(""), { labels });
      expect(created.labels).toEqual(labels);
      const fewer = await store.compareAndSwap(key, bytes(""), created.version, { labels: { n1: "x", other: "y" } });
      expect(fewer.labels).toEqual({ n1: "x", other: "y" });
      expect((await store.get(key)).labels).toEqual({ n1: "x", other: "y" });
      const none = await store.set(key, bytes(""));
      expect(none.labels).toBeUndefined();
    });

    it("rejects label names that cannot be attribute names", async () => {
      const { store } = await freshStore();
      expect(await rejection(store.set(taskKey("t"), bytes(""), { labels: { "a,b": "x" } }))).toBeInstanceOf(RangeError);
    });

    it("keeps a failed CAS a CompareFailedError even when the label guard would also fail", async () => {
      const fresh = await freshStore();
      const key = taskKey("t");
      const created = await fresh.store.create(key, bytes(""), { labels: { surprise: "1" } });
      await fresh.store.set(key, bytes("moved"), { labels: { surprise: "2" } });
      const other = new DynamoStore({ client: fresh.client, tableName: fresh.tableName });
      const error = await rejection(other.compareAndSwap(key, bytes(""), created.version));
      expect(error).toBeInstanceOf(CompareFailedError);
      expect((error as CompareFailedError).current.labels).toEqual({ surprise: "2" });
    });
  });

  describe("limits", () => {
    it("raises ValueTooLargeError before calling DynamoDB", async () => {
      // Nothing listens on port 9: any call would fail with a network error instead.
      const client = makeDynamoDBClient({ endpoint: "http://127.0.0.1:9" });
      const store = new DynamoStore({ client, tableName: "no-such-table" });
      const error = await rejection(store.create(desiredLRPKey("big"), new Uint8Array(500 * 1024)));
      expect(error).toBeInstanceOf(ValueTooLargeError);
      expect((error as ValueTooLargeError).limitBytes).toBe(400 * 1024);
      client.destroy();
    });

    it("accepts a value just under the item limit", async () => {
      const { store } = await freshStore();
      const node = await store.create(desiredLRPKey("big"), new Uint8Array(399 * 1024));
      expect(node.value.byteLength).toBe(399 * 1024);
    });

    it("refuses transactions over 100 ops or with a repeated key", async () => {
      const { store } = await freshStore();
      const many = Array.from({ length: 101 }, (_, i) => ({ op: "delete" as const, key: taskKey(`t${i}`) }));
      expect(await rejection(store.transact(many))).toBeInstanceOf(RangeError);
      expect(
        await rejection(store.transact([{ op: "delete", key: taskKey("a") }, { op: "delete", key: taskKey("a") }])),
      ).toBeInstanceOf(RangeError);
      await store.transact([]);
    });

    it("takes 100 ops in one transaction", async () => {
      const { store } = await freshStore();
      await store.transact(
        Array.from({ length: 100 }, (_, i) => ({ op: "create" as const, key: taskKey(`t${i}`), value: bytes(`${i}`) })),
      );
      expect(await store.list("/v1/task")).toHaveLength(100);
    });
  });

  describe("sweepExpired", () => {
    it("does not delete a node re-created with a new TTL, and deletes it once that one passes", async () => {
      const clock = new ManualClock();
      const fresh = await freshStore({ clock });
      const key = domainKey("d");
      await fresh.store.create(key, bytes(""), { ttlSeconds: 1 });
      clock.advance(1_000);
      // Re-created over the expired item with a TTL: still on the index, but with a later expiry.
      const again = await fresh.store.create(key, bytes("again"), { ttlSeconds: 1 });
      expect(await fresh.store.sweepExpired()).toBe(0);
      expect((await fresh.store.get(key)).version).toBe(again.version);
      clock.advance(1_000);
      expect(await fresh.store.sweepExpired()).toBe(1);
      expect(await rawItem(fresh, key)).toBeUndefined();
      expect(await rejection(fresh.store.get(key))).toBeInstanceOf(KeyNotFoundError);
    });
  });

  it("reads its own writes from every API (strongly consistent)", async () => {
    const { store } = await freshStore();
    for (let i = 0; i < 20; i++) {
      const key = actualLRPInstanceKey("pg-c", i);
      const node = await store.create(key, bytes(`${i}`));
      expect((await store.get(key)).version).toBe(node.version);
      expect(await store.list("/v1/actual/pg-c", { recursive: true })).toHaveLength(i + 1);
    }
  });
});
