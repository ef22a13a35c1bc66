// The behaviour every Store must have: etcd v2 as the BBS used it. One suite, run once per adapter,
// so the adapters (and any in-memory double) cannot drift apart.
import { describe, expect, it } from "vitest";
import { ManualClock, systemClock, type Clock } from "../../core/clock";
import {
  CompareFailedError,
  KeyExistsError,
  KeyNotFoundError,
  ValueTooLargeError,
} from "../../core/store/errors";
import { actualLRPInstanceKey, desiredLRPKey, domainKey, evacuatingActualLRPKey, taskKey } from "../../core/store/keys";
import type { Store, StoreNode } from "../../core/store/store";

/** Must return an empty store that reads time from `clock`. */
export type MakeStore = (clock: Clock) => Promise<Store>;

export interface ContractOptions {
  /**
   * Writes many plain nodes (no TTL, no labels) faster than one create each, for the big-listing
   * fixtures; by default they are created through the store, 32 at a time.
   */
  load?: (store: Store, nodes: readonly { key: string; value: Uint8Array }[]) => Promise<void>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);
const keysOf = (nodes: StoreNode[]) => nodes.map((n) => n.key).sort();

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export function describeStoreContract(name: string, makeStore: MakeStore, options: ContractOptions = {}): void {
  const load =
    options.load ?? ((store: Store, nodes: readonly { key: string; value: Uint8Array }[]) =>
      inParallel(nodes, 32, (node) => store.create(node.key, node.value)));

  describe(`Store contract: ${name}`, () => {
    const setup = async () => {
      const clock = new ManualClock();
      return { clock, store: await makeStore(clock) };
    };

    describe("create", () => {
      it("writes a node that get returns", async () => {
        const { store } = await setup();
        const created = await store.create(taskKey("t1"), bytes("v1"));
        expect(created.key).toBe(taskKey("t1"));
        expect(text(created.value)).toBe("v1");
        expect(created.expiresAtMs).toBeUndefined();
        const read = await store.get(taskKey("t1"));
        expect(read.version).toBe(created.version);
        expect(text(read.value)).toBe("v1");
      });

      it("fails with KeyExistsError carrying the current node when the key is taken", async () => {
        const { store } = await setup();
        const first = await store.create(taskKey("t1"), bytes("first"));
        const error = await rejection(store.create(taskKey("t1"), bytes("second")));
        expect(error).toBeInstanceOf(KeyExistsError);
        const { key, current } = error as KeyExistsError;
        expect(key).toBe(taskKey("t1"));
        expect(current.version).toBe(first.version);
        expect(text(current.value)).toBe("first");
        expect(text((await store.get(taskKey("t1"))).value)).toBe("first");
      });

      it("round-trips an empty value (domains store one)", async () => {
        const { store } = await setup();
        await store.create(domainKey("cf-apps"), new Uint8Array(0));
        expect((await store.get(domainKey("cf-apps"))).value.byteLength).toBe(0);
      });
    });

    describe("get and delete of a missing key", () => {
      it("get fails with KeyNotFoundError", async () => {
        const { store } = await setup();
        const error = await rejection(store.get(taskKey("nope")));
        expect(error).toBeInstanceOf(KeyNotFoundError);
        expect((error as KeyNotFoundError).key).toBe(taskKey("nope"));
      });

      it("delete fails with KeyNotFoundError", async () => {
        const { store } = await setup();
        expect(await rejection(store.delete(taskKey("nope")))).toBeInstanceOf(KeyNotFoundError);
      });

      it("delete removes an existing node", async () => {
        const { store } = await setup();
        await store.create(taskKey("t1"), bytes("v"));
        await store.delete(taskKey("t1"));
        expect(await rejection(store.get(taskKey("t1")))).toBeInstanceOf(KeyNotFoundError);
      });
    });

    describe("set", () => {
      it("creates when absent and overwrites unconditionally, changing the version each time", async () => {
        const { store } = await setup();
        const a = await store.set(domainKey("d"), bytes("a"));
        const b = await store.set(domainKey("d"), bytes("b"));
        expect(b.version).not.toBe(a.version);
        const read = await store.get(domainKey("d"));
        expect(text(read.value)).toBe("b");
        expect(read.version).toBe(b.version);
      });
    });

    describe("compareAndSwap", () => {
      it("succeeds on the current version and returns the new node", async () => {
        const { store } = await setup();
        const created = await store.create(taskKey("t1"), bytes("v1"));
        const swapped = await store.compareAndSwap(taskKey("t1"), bytes("v2"), created.version);
        expect(swapped.version).not.toBe(created.version);
        expect(text(swapped.value)).toBe("v2");
        expect((await store.get(taskKey("t1"))).version).toBe(swapped.version);
      });

      it("fails on a stale version with CompareFailedError carrying the current node", async () => {
        const { store } = await setup();
        const created = await store.create(taskKey("t1"), bytes("v1"));
        const current = await store.compareAndSwap(taskKey("t1"), bytes("v2"), created.version);
        const error = await rejection(store.compareAndSwap(taskKey("t1"), bytes("v3"), created.version));
        expect(error).toBeInstanceOf(CompareFailedError);
        expect((error as CompareFailedError).key).toBe(taskKey("t1"));
        expect((error as CompareFailedError).current.version).toBe(current.version);
        expect(text((error as CompareFailedError).current.value)).toBe("v2");
        expect(text((await store.get(taskKey("t1"))).value)).toBe("v2");
      });

      it("fails on a missing key with KeyNotFoundError", async () => {
        const { store } = await setup();
        expect(await rejection(store.compareAndSwap(taskKey("nope"), bytes("v"), 1))).toBeInstanceOf(KeyNotFoundError);
      });

      it("does not accept a version from a deleted earlier life of the key", async () => {
        const { store } = await setup();
        const first = await store.create(taskKey("t1"), bytes("old"));
        const oldVersions = [first.version];
        oldVersions.push((await store.compareAndSwap(taskKey("t1"), bytes("old2"), first.version)).version);
        await store.delete(taskKey("t1"));
        const reborn = await store.create(taskKey("t1"), bytes("new"));
        for (const stale of oldVersions) {
          expect(reborn.version).not.toBe(stale);
          expect(await rejection(store.compareAndSwap(taskKey("t1"), bytes("x"), stale))).toBeInstanceOf(CompareFailedError);
        }
      });

      it("lets exactly one of 50 concurrent swaps from the same version win", async () => {
        const { store } = await setup();
        const created = await store.create(taskKey("race"), bytes("start"));
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) => store.compareAndSwap(taskKey("race"), bytes(`w${i}`), created.version)),
        );
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(49);
        for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(CompareFailedError);
        const winner = (won[0] as PromiseFulfilledResult<StoreNode>).value;
        expect((await store.get(taskKey("race"))).version).toBe(winner.version);
      });
    });

    describe("compareAndDelete", () => {
      it("deletes on the current version", async () => {
        const { store } = await setup();
        const created = await store.create(taskKey("t1"), bytes("v"));
        await store.compareAndDelete(taskKey("t1"), created.version);
        expect(await rejection(store.get(taskKey("t1")))).toBeInstanceOf(KeyNotFoundError);
      });

      it("fails on a stale version with CompareFailedError carrying the current node, and keeps the node", async () => {
        const { store } = await setup();
        const created = await store.create(taskKey("t1"), bytes("v1"));
        const current = await store.set(taskKey("t1"), bytes("v2"));
        const error = await rejection(store.compareAndDelete(taskKey("t1"), created.version));
        expect(error).toBeInstanceOf(CompareFailedError);
        expect((error as CompareFailedError).current.version).toBe(current.version);
        expect(text((await store.get(taskKey("t1"))).value)).toBe("v2");
      });

      it("fails on a missing key with KeyNotFoundError", async () => {
        const { store } = await setup();
        expect(await rejection(store.compareAndDelete(taskKey("nope"), 1))).toBeInstanceOf(KeyNotFoundError);
      });
    });

    describe("labels", () => {
      it("round-trip through every write and read, and a write replaces the whole set", async () => {
        const { store } = await setup();
        const key = actualLRPInstanceKey("pg-1", 0);
        const created = await store.create(key, bytes("v"), { labels: { domain: "cf-apps", cell_id: "cell-1" } });
        expect(created.labels).toEqual({ domain: "cf-apps", cell_id: "cell-1" });
        expect((await store.get(key)).labels).toEqual({ domain: "cf-apps", cell_id: "cell-1" });
        expect((await store.list("/v1/actual/pg-1", { recursive: true }))[0]?.labels).toEqual({
          domain: "cf-apps",
          cell_id: "cell-1",
        });

        const swapped = await store.compareAndSwap(key, bytes("v2"), created.version, { labels: { domain: "cf-apps" } });
        expect(swapped.labels).toEqual({ domain: "cf-apps" });
        expect((await store.get(key)).labels).toEqual({ domain: "cf-apps" });

        const cleared = await store.set(key, bytes("v3"));
        expect(cleared.labels).toBeUndefined();
        expect((await store.get(key)).labels).toBeUndefined();
      });
    });

    describe("TTL", () => {
      it("makes an expired node absent to get, list and every condition", async () => {
        const { store, clock } = await setup();
        const key = evacuatingActualLRPKey("pg-1", 0);
        const created = await store.create(key, bytes("ev"), { ttlSeconds: 10 });
        expect(created.expiresAtMs).toBe(clock.nowMs() + 10_000);
        await store.create(actualLRPInstanceKey("pg-1", 0), bytes("in"));

        clock.advance(9_999);
        expect((await store.get(key)).version).toBe(created.version);
        expect(keysOf(await store.list("/v1/actual/pg-1", { recursive: true }))).toContain(key);

        clock.advance(1); // expiry is inclusive: at expiresAtMs the node is gone
        expect(await rejection(store.get(key))).toBeInstanceOf(KeyNotFoundError);
        expect(keysOf(await store.list("/v1/actual/pg-1", { recursive: true }))).toEqual([actualLRPInstanceKey("pg-1", 0)]);
        expect(keysOf(await store.list("/v1/actual", { recursive: true }))).toEqual([actualLRPInstanceKey("pg-1", 0)]);
        expect(await store.list(key)).toEqual([]);
        expect(await rejection(store.compareAndSwap(key, bytes("x"), created.version))).toBeInstanceOf(KeyNotFoundError);
        expect(await rejection(store.compareAndDelete(key, created.version))).toBeInstanceOf(KeyNotFoundError);
        expect(await rejection(store.delete(key))).toBeInstanceOf(KeyNotFoundError);
        expect(await rejection(store.transact([{ op: "delete", key }]))).toBeInstanceOf(KeyNotFoundError);
      });

      it("lets create succeed over an expired node, with a new version and no TTL unless given", async () => {
        const { store, clock } = await setup();
        const key = domainKey("cf-apps");
        const old = await store.create(key, bytes("old"), { ttlSeconds: 5, labels: { owner: "a" } });
        clock.advance(5_000);
        const fresh = await store.create(key, bytes("new"));
        expect(fresh.version).not.toBe(old.version);
        expect(fresh.expiresAtMs).toBeUndefined();
        expect(fresh.labels).toBeUndefined();
        clock.advance(3_600_000);
        const read = await store.get(key);
        expect(text(read.value)).toBe("new");
        expect(read.version).toBe(fresh.version);
      });

      it("is refreshed by a write with a TTL and cleared by a write without one", async () => {
        const { store, clock } = await setup();
        const key = domainKey("d");
        await store.set(key, bytes(""), { ttlSeconds: 10 });
        clock.advance(8_000);
        const refreshed = await store.set(key, bytes(""), { ttlSeconds: 10 });
        expect(refreshed.expiresAtMs).toBe(clock.nowMs() + 10_000);
        clock.advance(8_000);
        await store.get(key); // 16 s after the first write, alive thanks to the refresh
        const permanent = await store.set(key, bytes(""), { ttlSeconds: 0 });
        expect(permanent.expiresAtMs).toBeUndefined();
        clock.advance(86_400_000);
        expect((await store.get(key)).version).toBe(permanent.version);
      });

      it("expires in real time: ttl 1 s is gone 1.5 s later from get, list and CAS", async () => {
        const store = await makeStore(systemClock);
        const key = domainKey("short-lived");
        const created = await store.create(key, bytes(""), { ttlSeconds: 1 });
        expect(keysOf(await store.list("/v1/domain"))).toEqual([key]);
        await new Promise((r) => setTimeout(r, 1_500));
        expect(await rejection(store.get(key))).toBeInstanceOf(KeyNotFoundError);
        expect(await store.list("/v1/domain")).toEqual([]);
        expect(await store.list("/v1/domain", { recursive: true })).toEqual([]);
        expect(await rejection(store.compareAndSwap(key, bytes(""), created.version))).toBeInstanceOf(KeyNotFoundError);
      });
    });

    describe("sweepExpired", () => {
      it("deletes expired nodes but not one refreshed before the sweep, nor nodes without TTL", async () => {
        const { store, clock } = await setup();
        await store.create(domainKey("stale-1"), bytes(""), { ttlSeconds: 10 });
        await store.create(evacuatingActualLRPKey("pg-9", 3), bytes(""), { ttlSeconds: 10 });
        const refreshed = await store.create(domainKey("refreshed"), bytes(""), { ttlSeconds: 10 });
        await store.create(domainKey("permanent"), bytes(""));
        await store.create(domainKey("later"), bytes(""), { ttlSeconds: 60 });

        clock.advance(5_000);
        await store.compareAndSwap(domainKey("refreshed"), bytes("again"), refreshed.version, { ttlSeconds: 10 });
        clock.advance(6_000);

        expect(await store.sweepExpired()).toBe(2);
        expect(keysOf(await store.list("/v1/domain"))).toEqual([
          domainKey("later"),
          domainKey("permanent"),
          domainKey("refreshed"),
        ]);
        // Gone for real: even a clock turned back cannot see them any more.
        clock.advance(-11_000);
        expect(await rejection(store.get(domainKey("stale-1")))).toBeInstanceOf(KeyNotFoundError);
        expect(await rejection(store.get(evacuatingActualLRPKey("pg-9", 3)))).toBeInstanceOf(KeyNotFoundError);
        clock.advance(11_000);
        expect(await store.sweepExpired()).toBe(0);
      });
    });

    describe("list", () => {
      it("returns exactly one subtree among 10,000 nodes, and a whole root across all of them", async () => {
        const { store } = await setup();
        const keys: string[] = [];
        for (let g = 0; g < 2_500; g++) {
          for (const index of [0, 1]) keys.push(actualLRPInstanceKey(`pg-${g}`, index), evacuatingActualLRPKey(`pg-${g}`, index));
        }
        expect(keys).toHaveLength(10_000);
        await load(store, keys.map((key) => ({ key, value: bytes(key) })));

        const subtree = await store.list("/v1/actual/pg-1", { recursive: true });
        expect(keysOf(subtree)).toEqual(
          [
            actualLRPInstanceKey("pg-1", 0),
            evacuatingActualLRPKey("pg-1", 0),
            actualLRPInstanceKey("pg-1", 1),
            evacuatingActualLRPKey("pg-1", 1),
          ].sort(),
        );
        for (const node of subtree) expect(text(node.value)).toBe(node.key);
        expect(keysOf(await store.list("/v1/actual/pg-1/1/", { recursive: true }))).toEqual(
          [actualLRPInstanceKey("pg-1", 1), evacuatingActualLRPKey("pg-1", 1)].sort(),
        );

        const all = await store.list("/v1/actual", { recursive: true });
        expect(all).toHaveLength(10_000);
        expect(new Set(all.map((n) => n.key))).toEqual(new Set(keys));

        // The loaded nodes are ordinary nodes.
        const one = subtree[0]!;
        await store.compareAndSwap(one.key, bytes("changed"), one.version);
        expect(text((await store.list("/v1/actual/pg-1", { recursive: true })).find((n) => n.key === one.key)!.value)).toBe("changed");
      }, 60_000); // a few seconds on DynamoDB Local; headroom for a loaded machine

      it("lists only direct leaf children when not recursive", async () => {
        const { store } = await setup();
        await store.create(actualLRPInstanceKey("pg-1", 0), bytes("i"));
        await store.create(evacuatingActualLRPKey("pg-1", 0), bytes("e"));
        await store.create(domainKey("a"), bytes(""));
        await store.create(domainKey("b"), bytes(""));
        expect(await store.list("/v1/actual/pg-1")).toEqual([]);
        expect(await store.list("/v1/actual")).toEqual([]);
        expect(keysOf(await store.list("/v1/actual/pg-1/0"))).toEqual(
          [actualLRPInstanceKey("pg-1", 0), evacuatingActualLRPKey("pg-1", 0)].sort(),
        );
        expect(keysOf(await store.list("/v1/domain"))).toEqual([domainKey("a"), domainKey("b")]);
      });

      it("returns the node itself for a leaf key, and [] for an empty or unknown prefix", async () => {
        const { store } = await setup();
        await store.create(desiredLRPKey("pg-1"), bytes("d"));
        await store.create(desiredLRPKey("pg-10"), bytes("d10"));
        const leaf = await store.list(desiredLRPKey("pg-1"), { recursive: true });
        expect(keysOf(leaf)).toEqual([desiredLRPKey("pg-1")]);
        expect(keysOf(await store.list(desiredLRPKey("pg-1")))).toEqual([desiredLRPKey("pg-1")]);
        expect(await store.list("/v1/actual/pg-1", { recursive: true })).toEqual([]);
        expect(await store.list("/v1/task", { recursive: true })).toEqual([]);
        expect(await store.list("/nowhere/at/all", { recursive: true })).toEqual([]);
        expect(await store.list("/v9/unknown", { recursive: true })).toEqual([]);
      });

      it("keeps pg-1 apart from pg-10 and pg-1-x", async () => {
        const { store } = await setup();
        for (const guid of ["pg-1", "pg-10", "pg-1-x", "pg-1.5", "pg-"]) {
          await store.create(actualLRPInstanceKey(guid, 0), bytes(guid));
        }
        expect(keysOf(await store.list("/v1/actual/pg-1", { recursive: true }))).toEqual([actualLRPInstanceKey("pg-1", 0)]);
      });

      it("returns subtrees larger than one result page completely", async () => {
        const { store } = await setup();
        const big = new Uint8Array(100 * 1024).fill(7);
        const keys = Array.from({ length: 24 }, (_, i) => actualLRPInstanceKey("pg-big", i));
        await inParallel(keys, 8, (key) => store.create(key, big));
        const nodes = await store.list("/v1/actual/pg-big", { recursive: true });
        expect(keysOf(nodes)).toEqual([...keys].sort());
        expect(nodes.every((n) => n.value.byteLength === big.byteLength)).toBe(true);
        expect(await store.list("/v1/actual", { recursive: true })).toHaveLength(24);

        // forEachNode streams the same nodes, a page at a time.
        const pages: StoreNode[][] = [];
        await store.forEachNode("/v1/actual/pg-big", (page) => void pages.push(page));
        expect(pages.length).toBeGreaterThan(1);
        expect(keysOf(pages.flat())).toEqual([...keys].sort());
      });

      it("forEachNode visits what a recursive list returns, skipping expired nodes", async () => {
        const { store, clock } = await setup();
        await store.create(actualLRPInstanceKey("pg-1", 0), bytes("i"), { labels: { domain: "d" } });
        await store.create(evacuatingActualLRPKey("pg-1", 0), bytes("e"), { ttlSeconds: 1 });
        await store.create(actualLRPInstanceKey("pg-2", 0), bytes("i2"));
        await store.create(desiredLRPKey("pg-1"), bytes("d"));
        clock.advance(1_000);
        const visited = async (prefix: string, withoutLabels = false) => {
          const nodes: StoreNode[] = [];
          await store.forEachNode(prefix, (page) => void nodes.push(...page), { withoutLabels });
          return nodes;
        };
        for (const prefix of ["/v1/actual", "/v1/actual/pg-1", desiredLRPKey("pg-1"), "/v1/task"]) {
          expect(keysOf(await visited(prefix))).toEqual(keysOf(await store.list(prefix, { recursive: true })));
        }
        expect((await visited("/v1/actual/pg-1"))[0]?.labels).toEqual({ domain: "d" });
        const bare = await visited("/v1/actual/pg-1", true);
        expect(bare.map((n) => [n.key, text(n.value), n.labels])).toEqual([[actualLRPInstanceKey("pg-1", 0), "i", undefined]]);
      });

      it("forEachLabelledNode visits the same live nodes with only the labels asked for, and no value", async () => {
        const { store, clock } = await setup();
        const a = await store.create(desiredLRPKey("pg-a"), bytes("a"), { labels: { domain: "cf-apps", instances: "3", other: "x" } });
        await store.create(desiredLRPKey("pg-b"), bytes("b"));
        await store.create(desiredLRPKey("pg-gone"), bytes("g"), { ttlSeconds: 1, labels: { domain: "cf-apps" } });
        clock.advance(1_000);
        const visited: unknown[] = [];
        await store.forEachLabelledNode("/v1/desired", ["domain", "instances"], (page) => void visited.push(...page));
        expect(visited.sort((x, y) => ((x as { key: string }).key < (y as { key: string }).key ? -1 : 1))).toEqual([
          { key: desiredLRPKey("pg-a"), version: a.version, labels: { domain: "cf-apps", instances: "3" } },
          { key: desiredLRPKey("pg-b"), version: expect.any(Number), labels: {} },
        ]);
        await expect(store.forEachLabelledNode("/v1/desired", ["no spaces"], () => {})).rejects.toThrow(RangeError);
      });
    });

    describe("getMany", () => {
      it("returns every live node asked for across shards and batches, leaving out absent and expired keys", async () => {
        const { store, clock } = await setup();
        const keys = Array.from({ length: 230 }, (_, i) => desiredLRPKey(`pg-${i}`));
        await load(store, keys.map((key) => ({ key, value: bytes(key) })));
        await store.create(desiredLRPKey("pg-expiring"), bytes("e"), { ttlSeconds: 1, labels: { domain: "d" } });
        clock.advance(1_000);
        const found = await store.getMany([...keys, keys[0]!, desiredLRPKey("pg-missing"), desiredLRPKey("pg-expiring")]);
        expect([...found.keys()].sort()).toEqual([...keys].sort());
        for (const key of keys) expect(text(found.get(key)!.value)).toBe(key);
        expect(found.get(keys[7]!)).toEqual(await store.get(keys[7]!));
        expect((await store.getMany([])).size).toBe(0);
      });
    });

    describe("transact", () => {
      it("applies every op when all conditions hold", async () => {
        const { store } = await setup();
        const instance = await store.create(actualLRPInstanceKey("pg-1", 0), bytes("running"));
        const gone = await store.create(taskKey("t-gone"), bytes("x"));
        await store.create(taskKey("t-del"), bytes("x"));
        await store.transact([
          { op: "create", key: evacuatingActualLRPKey("pg-1", 0), value: bytes("evacuating"), options: { ttlSeconds: 60 } },
          { op: "compareAndSwap", key: actualLRPInstanceKey("pg-1", 0), value: bytes("unclaimed"), prevVersion: instance.version },
          { op: "compareAndDelete", key: taskKey("t-gone"), prevVersion: gone.version },
          { op: "delete", key: taskKey("t-del") },
          { op: "set", key: domainKey("d"), value: bytes(""), options: { labels: { kind: "domain" } } },
        ]);
        expect(text((await store.get(evacuatingActualLRPKey("pg-1", 0))).value)).toBe("evacuating");
        expect((await store.get(evacuatingActualLRPKey("pg-1", 0))).expiresAtMs).toBeDefined();
        const swapped = await store.get(actualLRPInstanceKey("pg-1", 0));
        expect(text(swapped.value)).toBe("unclaimed");
        expect(swapped.version).not.toBe(instance.version);
        expect(await rejection(store.get(taskKey("t-gone")))).toBeInstanceOf(KeyNotFoundError);
        expect(await rejection(store.get(taskKey("t-del")))).toBeInstanceOf(KeyNotFoundError);
        expect((await store.get(domainKey("d"))).labels).toEqual({ kind: "domain" });
      });

      it("writes nothing when one condition fails, and names that key with its current node", async () => {
        const { store } = await setup();
        const created = await store.create(actualLRPInstanceKey("pg-1", 0), bytes("v1"));
        const current = await store.compareAndSwap(actualLRPInstanceKey("pg-1", 0), bytes("v2"), created.version);
        const error = await rejection(
          store.transact([
            { op: "create", key: evacuatingActualLRPKey("pg-1", 0), value: bytes("ev") },
            { op: "compareAndSwap", key: actualLRPInstanceKey("pg-1", 0), value: bytes("v3"), prevVersion: created.version },
          ]),
        );
        expect(error).toBeInstanceOf(CompareFailedError);
        expect((error as CompareFailedError).key).toBe(actualLRPInstanceKey("pg-1", 0));
        expect((error as CompareFailedError).current.version).toBe(current.version);
        expect(text((error as CompareFailedError).current.value)).toBe("v2");
        expect(await rejection(store.get(evacuatingActualLRPKey("pg-1", 0)))).toBeInstanceOf(KeyNotFoundError);
        expect(text((await store.get(actualLRPInstanceKey("pg-1", 0))).value)).toBe("v2");
      });

      it("reports KeyExistsError and KeyNotFoundError per op", async () => {
        const { store } = await setup();
        const taken = await store.create(taskKey("taken"), bytes("t"));
        const exists = await rejection(
          store.transact([
            { op: "set", key: taskKey("other"), value: bytes("o") },
            { op: "create", key: taskKey("taken"), value: bytes("again") },
          ]),
        );
        expect(exists).toBeInstanceOf(KeyExistsError);
        expect((exists as KeyExistsError).key).toBe(taskKey("taken"));
        expect((exists as KeyExistsError).current.version).toBe(taken.version);
        expect(await rejection(store.get(taskKey("other")))).toBeInstanceOf(KeyNotFoundError);

        const missing = await rejection(
          store.transact([
            { op: "set", key: taskKey("other"), value: bytes("o") },
            { op: "compareAndDelete", key: taskKey("missing"), prevVersion: 1 },
          ]),
        );
        expect(missing).toBeInstanceOf(KeyNotFoundError);
        expect((missing as KeyNotFoundError).key).toBe(taskKey("missing"));
        expect(await rejection(store.get(taskKey("other")))).toBeInstanceOf(KeyNotFoundError);
      });
    });

    describe("value size", () => {
      it("rejects a 500 KB value with ValueTooLargeError and writes nothing", async () => {
        const { store } = await setup();
        const huge = new Uint8Array(500 * 1024);
        const key = desiredLRPKey("huge");
        expect(await rejection(store.create(key, huge))).toBeInstanceOf(ValueTooLargeError);
        expect(await rejection(store.set(key, huge))).toBeInstanceOf(ValueTooLargeError);
        expect(await rejection(store.transact([{ op: "set", key, value: huge }]))).toBeInstanceOf(ValueTooLargeError);
        expect(await rejection(store.get(key))).toBeInstanceOf(KeyNotFoundError);
        const small = await store.create(key, bytes("small"));
        expect(await rejection(store.compareAndSwap(key, huge, small.version))).toBeInstanceOf(ValueTooLargeError);
        expect(text((await store.get(key)).value)).toBe("small");
      });
    });
  });
}
