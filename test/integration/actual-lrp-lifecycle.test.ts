// The lifecycle operations of semantics §2.2 and §3 over DynamoDB Local: what is stored, the versions
// the writes are conditioned on (a racing write in between loses the operation its race), the
// auction requests, and retirement through the cell registry and the rep.
import { create } from "@bufbuild/protobuf";
import { beforeEach, describe, expect, it } from "vitest";
import {
  START_ATTEMPTS,
  claimActualLRP,
  crashActualLRP,
  failActualLRP,
  removeActualLRP,
  requestLRPAuctionForIndex,
  startActualLRP,
  unclaimActualLRP,
} from "../../core/actual-lrp-lifecycle";
import { RETIRE_ATTEMPTS, actualLRPWriteOptions, encodeActualLRP, retireActualLRP } from "../../core/actual-lrps";
import { upsertCellPresence } from "../../core/cells";
import { CellPresenceSchema } from "../../core/gen/models/cell_presence_pb";
import { ActualLRPState } from "../../core/models/actual-lrp";
import { ErrorType } from "../../core/models/errors";
import { validateActualLRP } from "../../core/models/validation";
import {
  GUID,
  actualLRP,
  cellA,
  cellB,
  harness,
  instancePath,
  key,
  netA,
  netB,
  netInfo,
  putDesiredLRP,
  putInstance,
  readInstance,
  type Harness,
} from "./actual-lrp-fixtures";

const MINUTE_MS = 60_000;

let h: Harness;
beforeEach(async () => {
  h = await harness();
});

async function errorOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { type?: string }).type ?? String(error);
  }
}

async function stored(index = 0) {
  const read = await readInstance(h, index);
  if (!read) throw new Error("no instance record");
  return read;
}

/** A concurrent claim by cell B right after the operation's read. */
const claimByBAfterRead = () =>
  h.store.raceOnce(instancePath(), async () => {
    await claimActualLRP({ ...h.ctx, store: h.store.raw }, GUID, 0, cellB);
  });

describe("claimActualLRP", () => {
  it("missing: ResourceNotFound", async () => {
    expect(await errorOf(claimActualLRP(h.ctx, GUID, 0, cellA))).toBe(ErrorType.ResourceNotFound);
  });

  it("UNCLAIMED: stores CLAIMED with the cell's labels, tag + 1, since untouched, on the version read", async () => {
    const sinceNs = h.clock.nowNs();
    const before = await putInstance(h, ActualLRPState.Unclaimed, { placementError: "was unplaceable", crashCount: 2 });
    h.clock.advance(1000);
    await claimActualLRP(h.ctx, GUID, 0, cellA);
    const { node, lrp } = await stored();
    expect(lrp).toMatchObject({ state: "CLAIMED", placementError: "", crashCount: 2, since: sinceNs });
    expect(lrp.actualLrpInstanceKey).toMatchObject({ instanceGuid: "instance-a", cellId: "cell-a" });
    expect(lrp.modificationTag).toMatchObject({ epoch: "epoch-1", index: 4 });
    expect(node.labels).toEqual({ domain: "cf-apps", cell_id: "cell-a" });
    expect(node.version).not.toBe(before.version);
    expect(validateActualLRP(lrp)).toEqual([]);
  });

  it("CLAIMED by another cell: ActualLRPCannotBeClaimed and the record is untouched", async () => {
    const before = await putInstance(h, ActualLRPState.Claimed, { instance: cellB });
    expect(await errorOf(claimActualLRP(h.ctx, GUID, 0, cellA))).toBe(ErrorType.ActualLRPCannotBeClaimed);
    expect((await stored()).node.version).toBe(before.version);
  });

  it("RUNNING by the same instance: back to CLAIMED with net info wiped", async () => {
    await putInstance(h, ActualLRPState.Running);
    await claimActualLRP(h.ctx, GUID, 0, cellA);
    const { lrp } = await stored();
    expect(lrp.state).toBe("CLAIMED");
    expect(lrp.actualLrpNetInfo).toMatchObject({ address: "", ports: [] });
  });

  it("a claim that loses its write to another claim: ActualLRPCannotBeClaimed, the winner's record stands", async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    claimByBAfterRead();
    expect(await errorOf(claimActualLRP(h.ctx, GUID, 0, cellA))).toBe(ErrorType.ActualLRPCannotBeClaimed);
    expect((await stored()).lrp.actualLrpInstanceKey).toMatchObject({ cellId: "cell-b" });
  });

  it("a result that fails validation: InvalidRecord, nothing written", async () => {
    const bad = actualLRP(h, ActualLRPState.Unclaimed, { sinceNs: 0n });
    const before = await h.store.set(instancePath(), encodeActualLRP(bad), actualLRPWriteOptions(bad));
    expect(await errorOf(claimActualLRP(h.ctx, GUID, 0, cellA))).toBe(ErrorType.InvalidRecord);
    expect((await stored()).node.version).toBe(before.version);
  });
});

describe("startActualLRP", () => {
  it("missing: creates it RUNNING with a new epoch, tag index 0, since = now (Unix ns), no desired LRP needed", async () => {
    await startActualLRP(h.ctx, key(), cellA, netA);
    const { lrp, node } = await stored();
    expect(lrp).toMatchObject({ state: "RUNNING", crashCount: 0, since: h.clock.nowNs() });
    expect(lrp.since).toBe(BigInt(h.clock.nowMs()) * 1_000_000n);
    expect(lrp.modificationTag?.index).toBe(0);
    expect(lrp.modificationTag?.epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect(node.labels).toEqual({ domain: "cf-apps", cell_id: "cell-a" });
    expect(h.auctioneer.lrpStarts).toEqual([]);
  });

  it("identical RUNNING: success without a write", async () => {
    const before = await putInstance(h, ActualLRPState.Running);
    await startActualLRP(h.ctx, key(), cellA, netInfo("10.0.0.1", [8080, 61001]));
    expect((await stored()).node.version).toBe(before.version);
  });

  it("CLAIMED by another cell: the starting cell takes it over; crash count and reason survive", async () => {
    await putInstance(h, ActualLRPState.Claimed, { instance: cellB, crashCount: 2, crashReason: "boom" });
    h.clock.advance(5000);
    await startActualLRP(h.ctx, key(), cellA, netA);
    const { lrp } = await stored();
    expect(lrp).toMatchObject({ state: "RUNNING", crashCount: 2, crashReason: "boom", since: h.clock.nowNs() });
    expect(lrp.actualLrpInstanceKey).toMatchObject({ cellId: "cell-a" });
    expect(lrp.modificationTag?.index).toBe(4);
  });

  it("RUNNING on another cell, or another domain: ActualLRPCannotBeStarted", async () => {
    await putInstance(h, ActualLRPState.Running, { instance: cellB });
    expect(await errorOf(startActualLRP(h.ctx, key(), cellA, netA))).toBe(ErrorType.ActualLRPCannotBeStarted);
    await putInstance(h, ActualLRPState.Unclaimed);
    expect(await errorOf(startActualLRP(h.ctx, key(0, "other-domain"), cellA, netA))).toBe(ErrorType.ActualLRPCannotBeStarted);
  });

  // Start begins with a conditional create (no read): the failed create is where it learns the record,
  // so that is where these races slip in.
  const raceAfterCreate = (race: () => Promise<unknown>) => {
    const inner = h.store.raw;
    let done = false;
    h.store.override("create", async (...args) => {
      try {
        return await inner.create(...args);
      } finally {
        if (!done) {
          done = true;
          await race();
        }
      }
    });
  };

  it("a start that loses its write to a claim judges again against the claim and still wins (start beats claim under any interleaving)", async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    raceAfterCreate(() => claimActualLRP({ ...h.ctx, store: h.store.raw }, GUID, 0, cellB));
    await startActualLRP(h.ctx, key(), cellA, netA);
    const { lrp } = await stored();
    expect(lrp.state).toBe("RUNNING");
    expect(lrp.actualLrpInstanceKey).toMatchObject({ cellId: "cell-a" });
    expect(lrp.modificationTag?.index).toBe(5);
  });

  it("a start that loses its write to another cell's start: ActualLRPCannotBeStarted, the winner stays", async () => {
    await putInstance(h, ActualLRPState.Claimed);
    raceAfterCreate(() => startActualLRP({ ...h.ctx, store: h.store.raw }, key(), cellB, netB));
    expect(await errorOf(startActualLRP(h.ctx, key(), cellA, netA))).toBe(ErrorType.ActualLRPCannotBeStarted);
    expect((await stored()).lrp.actualLrpInstanceKey).toMatchObject({ cellId: "cell-b" });
  });

  it("a start on a missing record whose create collides with a fresh UNCLAIMED record takes that record over", async () => {
    const inner = h.store.raw;
    let done = false;
    h.store.override("create", async (...args) => {
      if (!done) {
        done = true;
        await putInstance(h, ActualLRPState.Unclaimed); // lands just before the create
      }
      return inner.create(...args);
    });
    await startActualLRP(h.ctx, key(), cellA, netA);
    const { lrp } = await stored();
    expect(lrp).toMatchObject({ state: "RUNNING", modificationTag: { epoch: "epoch-1", index: 4 } });
  });

  it(`gives up after ${START_ATTEMPTS} lost writes in a row with ActualLRPCannotBeStarted`, async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    const inner = h.store.raw;
    let lost = 0;
    h.store.override("create", async (...args) => {
      lost++; // the record exists: the create is the first lost write
      return inner.create(...args);
    });
    h.store.override("compareAndSwap", async (...args) => {
      const node = await inner.get(instancePath());
      await inner.set(instancePath(), node.value, { labels: node.labels });
      lost++;
      return inner.compareAndSwap(...args);
    });
    expect(await errorOf(startActualLRP(h.ctx, key(), cellA, netA))).toBe(ErrorType.ActualLRPCannotBeStarted);
    expect(lost).toBe(START_ATTEMPTS);
  });
});

describe("crashActualLRP (§3)", () => {
  beforeEach(async () => {
    await putDesiredLRP(h);
  });

  it("missing: ResourceNotFound; another cell's instance: ActualLRPCannotBeCrashed", async () => {
    expect(await errorOf(crashActualLRP(h.ctx, key(), cellA, "boom"))).toBe(ErrorType.ResourceNotFound);
    await putInstance(h, ActualLRPState.Running, { instance: cellB });
    expect(await errorOf(crashActualLRP(h.ctx, key(), cellA, "boom"))).toBe(ErrorType.ActualLRPCannotBeCrashed);
  });

  it("first and second crash: stored UNCLAIMED in one write and auctioned at once for that index; the third stays CRASHED", async () => {
    await putInstance(h, ActualLRPState.Running, { index: 2 });
    await crashActualLRP(h.ctx, key(2), cellA, "exit 1");
    expect((await stored(2)).lrp).toMatchObject({ state: "UNCLAIMED", crashCount: 1, crashReason: "exit 1", since: h.clock.nowNs() });
    expect(h.auctioneer.requested).toEqual([[{ processGuid: GUID, indices: [2] }]]);
    expect(h.auctioneer.lrpStarts[0]?.[0]?.desiredLRP.modificationTag?.epoch).toBe("desired-epoch");

    for (const expected of [
      { state: "UNCLAIMED", crashCount: 2, auctions: 2 },
      { state: "CRASHED", crashCount: 3, auctions: 2 },
    ]) {
      await claimActualLRP(h.ctx, GUID, 2, cellA);
      await startActualLRP(h.ctx, key(2), cellA, netA);
      h.clock.advance(MINUTE_MS);
      await crashActualLRP(h.ctx, key(2), cellA, "exit 1");
      expect((await stored(2)).lrp).toMatchObject({ state: expected.state, crashCount: expected.crashCount });
      expect(h.auctioneer.lrpStarts).toHaveLength(expected.auctions);
    }
  });

  it("a RUNNING instance that ran for more than 5 minutes counts afresh from 1; from CLAIMED it never resets", async () => {
    await putInstance(h, ActualLRPState.Running, { crashCount: 6 });
    h.clock.advance(5 * MINUTE_MS + 1);
    await crashActualLRP(h.ctx, key(), cellA, "late crash");
    expect((await stored()).lrp).toMatchObject({ state: "UNCLAIMED", crashCount: 1 });

    await putInstance(h, ActualLRPState.Claimed, { crashCount: 6 });
    h.clock.advance(10 * MINUTE_MS);
    await crashActualLRP(h.ctx, key(), cellA, "late crash");
    expect((await stored()).lrp).toMatchObject({ state: "CRASHED", crashCount: 7 });
  });

  it("the 200th crash stays CRASHED and asks for no auction", async () => {
    await putInstance(h, ActualLRPState.Running, { crashCount: 199 });
    await crashActualLRP(h.ctx, key(), cellA, "again");
    expect((await stored()).lrp).toMatchObject({ state: "CRASHED", crashCount: 200 });
    expect(h.auctioneer.lrpStarts).toEqual([]);
  });

  it("a crash that loses its write: ActualLRPCannotBeCrashed, no auction", async () => {
    await putInstance(h, ActualLRPState.Claimed);
    h.store.raceOnce(instancePath(), () => startActualLRP({ ...h.ctx, store: h.store.raw }, key(), cellA, netA));
    expect(await errorOf(crashActualLRP(h.ctx, key(), cellA, "boom"))).toBe(ErrorType.ActualLRPCannotBeCrashed);
    expect((await stored()).lrp.state).toBe("RUNNING");
    expect(h.auctioneer.lrpStarts).toEqual([]);
  });

  it("decision: an auctioneer failure is logged, the crash succeeds and the UNCLAIMED record stands for convergence", async () => {
    h.auctioneer.failWith = new Error("auctioneer answered 500");
    await putInstance(h, ActualLRPState.Running);
    await crashActualLRP(h.ctx, key(), cellA, "boom");
    expect((await stored()).lrp).toMatchObject({ state: "UNCLAIMED", crashCount: 1 });
    expect(h.auctioneer.lrpStarts).toHaveLength(1);
  });
});

describe("requestLRPAuctionForIndex without a desired LRP", () => {
  it("deletes the instance and sends NO auction (the original sent one with a null desired LRP)", async () => {
    await putInstance(h, ActualLRPState.Running, { index: 1 });
    await crashActualLRP(h.ctx, key(1), cellA, "boom");
    expect(await readInstance(h, 1)).toBeUndefined();
    expect(h.auctioneer.lrpStarts).toEqual([]);
  });

  it("does not mind the instance being gone already", async () => {
    await expect(requestLRPAuctionForIndex(h.ctx, key(4))).resolves.toBeUndefined();
    expect(h.auctioneer.lrpStarts).toEqual([]);
  });
});

describe("failActualLRP", () => {
  it("UNCLAIMED: placement error, since = now, tag + 1; the key's domain is not compared", async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    h.clock.advance(30_000);
    await failActualLRP(h.ctx, key(0, "whatever-domain"), "insufficient resources");
    expect((await stored()).lrp).toMatchObject({ state: "UNCLAIMED", placementError: "insufficient resources", since: h.clock.nowNs(), modificationTag: { index: 4 } });
  });

  it("missing: ResourceNotFound; CLAIMED: ActualLRPCannotBeFailed; a lost write: ActualLRPCannotBeFailed", async () => {
    expect(await errorOf(failActualLRP(h.ctx, key(), "x"))).toBe(ErrorType.ResourceNotFound);
    await putInstance(h, ActualLRPState.Claimed);
    expect(await errorOf(failActualLRP(h.ctx, key(), "x"))).toBe(ErrorType.ActualLRPCannotBeFailed);
    await putInstance(h, ActualLRPState.Unclaimed);
    h.store.raceOnce(instancePath(), () => claimActualLRP({ ...h.ctx, store: h.store.raw }, GUID, 0, cellB));
    expect(await errorOf(failActualLRP(h.ctx, key(), "x"))).toBe(ErrorType.ActualLRPCannotBeFailed);
  });
});

describe("removeActualLRP", () => {
  it("removes any state of any owner; missing: ResourceNotFound; a lost delete: ActualLRPCannotBeRemoved", async () => {
    await putInstance(h, ActualLRPState.Running, { instance: cellB });
    await removeActualLRP(h.ctx, GUID, 0);
    expect(await readInstance(h)).toBeUndefined();
    expect(await errorOf(removeActualLRP(h.ctx, GUID, 0))).toBe(ErrorType.ResourceNotFound);
    await putInstance(h, ActualLRPState.Unclaimed);
    h.store.raceOnce(instancePath(), () => claimActualLRP({ ...h.ctx, store: h.store.raw }, GUID, 0, cellB));
    expect(await errorOf(removeActualLRP(h.ctx, GUID, 0))).toBe(ErrorType.ActualLRPCannotBeRemoved);
    expect((await stored()).lrp.state).toBe("CLAIMED");
  });
});

describe("unclaimActualLRP (shared helper)", () => {
  it("writes only against the caller's earlier read: a record changed since gives ActualLRPCannotBeUnclaimed", async () => {
    await putInstance(h, ActualLRPState.Claimed);
    const earlier = await stored();
    expect(await unclaimActualLRP(h.ctx, earlier, key(), cellA)).toBe(true);
    expect((await stored()).lrp.state).toBe("UNCLAIMED");
    expect(await unclaimActualLRP(h.ctx, await stored(), key(), cellA)).toBe(false);
    await putInstance(h, ActualLRPState.Claimed);
    const stale = await stored();
    await claimActualLRP(h.ctx, GUID, 0, cellA);
    expect(await errorOf(unclaimActualLRP(h.ctx, stale, key(), cellA))).toBe(ErrorType.ActualLRPCannotBeUnclaimed);
  });
});

describe("retireActualLRP (§2.2)", () => {
  const presence = (cellId: string, repAddress: string) => create(CellPresenceSchema, { cellId, repAddress, zone: "z1" });

  it("missing: ResourceNotFound", async () => {
    expect(await errorOf(retireActualLRP(h.ctx, GUID, 0))).toBe(ErrorType.ResourceNotFound);
  });

  it.each([ActualLRPState.Unclaimed, ActualLRPState.Crashed])("%s: deleted, no rep asked", async (state) => {
    await putInstance(h, state);
    await retireActualLRP(h.ctx, GUID, 0);
    expect(await readInstance(h)).toBeUndefined();
    expect(h.reps.stops).toEqual([]);
  });

  it.each([ActualLRPState.Claimed, ActualLRPState.Running])("%s on a present cell: the rep is asked to stop it and the record stays", async (state) => {
    await upsertCellPresence(h.ctx, presence("cell-a", "http://rep-a.example:1800"), 10);
    const before = await putInstance(h, state);
    await retireActualLRP(h.ctx, GUID, 0);
    expect(h.reps.stops).toEqual([{ repAddress: "http://rep-a.example:1800", processGuid: GUID, instanceGuid: "instance-a" }]);
    expect((await stored()).node.version).toBe(before.version);
  });

  it("RUNNING on a cell whose presence expired: deleted without asking any rep", async () => {
    await upsertCellPresence(h.ctx, presence("cell-a", "http://rep-a.example:1800"), 10);
    await putInstance(h, ActualLRPState.Running);
    h.clock.advance(10_001);
    await retireActualLRP(h.ctx, GUID, 0);
    expect(await readInstance(h)).toBeUndefined();
    expect(h.reps.stops).toEqual([]);
  });

  it(`a rep that keeps failing: ${RETIRE_ATTEMPTS} attempts, then ActualLRPCannotBeStopped`, async () => {
    await upsertCellPresence(h.ctx, presence("cell-a", "http://rep-a.example:1800"), 10);
    await putInstance(h, ActualLRPState.Running);
    h.reps.failWith = new Error("rep answered 500");
    expect(await errorOf(retireActualLRP(h.ctx, GUID, 0))).toBe(ErrorType.ActualLRPCannotBeStopped);
    expect(h.reps.stops).toHaveLength(RETIRE_ATTEMPTS);
    expect((await stored()).lrp.state).toBe("RUNNING");
  });

  it("re-reads on every attempt: a delete lost to a claim is followed by a stop request to the claiming cell", async () => {
    await upsertCellPresence(h.ctx, presence("cell-b", "http://rep-b.example:1800"), 10);
    await putInstance(h, ActualLRPState.Unclaimed);
    h.store.raceOnce(instancePath(), () => claimActualLRP({ ...h.ctx, store: h.store.raw }, GUID, 0, cellB));
    await retireActualLRP(h.ctx, GUID, 0);
    expect(h.reps.stops).toEqual([{ repAddress: "http://rep-b.example:1800", processGuid: GUID, instanceGuid: "instance-b" }]);
  });

  it(`deletes that keep losing: ${RETIRE_ATTEMPTS} attempts, then ActualLRPCannotBeRemoved`, async () => {
    await putInstance(h, ActualLRPState.Crashed);
    const inner = h.store.raw;
    let reads = 0;
    h.store.onGet = async (k) => {
      if (k !== instancePath()) return;
      reads++;
      const node = await inner.get(k);
      await inner.set(k, node.value, { labels: node.labels });
    };
    expect(await errorOf(retireActualLRP(h.ctx, GUID, 0))).toBe(ErrorType.ActualLRPCannotBeRemoved);
    expect(reads).toBe(RETIRE_ATTEMPTS);
  });
});
