// Evacuation (semantics §2.3) over DynamoDB Local: the evacuating record's TTL, keep_container with
// and without errors, the auction, and the all-or-nothing pair write: where the original wrote the
// evacuating record and then unclaimed the instance in two steps, a failure here changes neither.
import { beforeEach, describe, expect, it } from "vitest";
import { claimActualLRP, startActualLRP } from "../../core/actual-lrp-lifecycle";
import {
  evacuateClaimedActualLRP,
  evacuateCrashedActualLRP,
  evacuateRunningActualLRP,
  evacuateStoppedActualLRP,
  evacuationResponse,
  removeEvacuatingActualLRP,
} from "../../core/evacuation";
import { ActualLRPState } from "../../core/models/actual-lrp";
import { ErrorType, actualLRPCannotBeUnclaimed } from "../../core/models/errors";
import { validateActualLRP } from "../../core/models/validation";
import { desiredLRPKey } from "../../core/store/keys";
import {
  GUID,
  cellA,
  cellB,
  evacuatingPath,
  harness,
  instancePath,
  key,
  netA,
  netB,
  putDesiredLRP,
  putEvacuating,
  putInstance,
  readEvacuating,
  readInstance,
  type Harness,
} from "./actual-lrp-fixtures";

let h: Harness;
beforeEach(async () => {
  h = await harness();
  await putDesiredLRP(h);
});

const result = (keepContainer: boolean, error?: string) => ({ keepContainer, error: error && expect.objectContaining({ type: error }) });

describe("evacuateRunningActualLRP", () => {
  it("own RUNNING instance: evacuating record created (RUNNING, tag index 1, TTL from the request), instance unclaimed and auctioned, keep true", async () => {
    await putInstance(h, ActualLRPState.Running, { crashCount: 1 });
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(true));

    const evacuating = await readEvacuating(h);
    expect(evacuating?.lrp).toMatchObject({ state: "RUNNING", since: h.clock.nowNs(), crashCount: 0, modificationTag: { index: 1 } });
    expect(evacuating?.lrp.modificationTag?.epoch).not.toBe("epoch-1");
    expect(evacuating?.lrp.actualLrpInstanceKey).toMatchObject({ cellId: "cell-a" });
    expect(evacuating?.node.expiresAtMs).toBe(h.clock.nowMs() + 60_000);
    expect(evacuating?.node.labels).toEqual({ domain: "cf-apps", cell_id: "cell-a" });
    expect(validateActualLRP(evacuating!.lrp)).toEqual([]);

    const instance = await readInstance(h);
    expect(instance?.lrp).toMatchObject({ state: "UNCLAIMED", crashCount: 1, modificationTag: { epoch: "epoch-1", index: 4 } });
    expect(instance?.node.expiresAtMs).toBeUndefined();
    expect(h.auctioneer.requested).toEqual([[{ processGuid: GUID, indices: [0] }]]);
  });

  it("the evacuating record expires with its TTL (read as absent at once, no sweep needed); ttl 0 never expires", async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 1n);
    h.clock.advance(999);
    expect(await readEvacuating(h)).toBeDefined();
    h.clock.advance(1);
    expect(await readEvacuating(h)).toBeUndefined();

    await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 0n);
    h.clock.advance(365 * 24 * 3600 * 1000);
    expect((await readEvacuating(h))?.node.expiresAtMs).toBeUndefined();
  });

  it("an identical repeat does not refresh the TTL; a change of net info writes and resets it", async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 10n);
    const first = await readEvacuating(h);
    h.clock.advance(5000);
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 10n)).toEqual(result(true));
    expect((await readEvacuating(h))?.node).toMatchObject({ version: first?.node.version, expiresAtMs: first?.node.expiresAtMs });
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netB, 10n)).toEqual(result(true));
    const changed = await readEvacuating(h);
    expect(changed?.node.expiresAtMs).toBe(h.clock.nowMs() + 10_000);
    expect(changed?.lrp).toMatchObject({ modificationTag: { index: 2 }, actualLrpNetInfo: { address: "10.0.0.2" } });
  });

  it("an UNCLAIMED instance another cell already evacuates: nothing written, keep false", async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    const theirs = await putEvacuating(h, { instance: cellB, net: netB });
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(false));
    expect((await readEvacuating(h))?.node.version).toBe(theirs.version);
  });

  it("its own instance overwrites another cell's evacuating record", async () => {
    await putInstance(h, ActualLRPState.Claimed);
    await putEvacuating(h, { instance: cellB, net: netB });
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(true));
    expect((await readEvacuating(h))?.lrp).toMatchObject({ actualLrpInstanceKey: { cellId: "cell-a" }, modificationTag: { epoch: "epoch-1", index: 4 } });
  });

  it.each([
    ["missing", undefined],
    ["UNCLAIMED with a placement error", ActualLRPState.Unclaimed],
    ["RUNNING on another cell", ActualLRPState.Running],
    ["CRASHED", ActualLRPState.Crashed],
  ] as const)("instance %s: the cell's own evacuating record is removed, keep false", async (_, state) => {
    if (state) await putInstance(h, state, { instance: state === ActualLRPState.Running ? cellB : undefined, placementError: state === ActualLRPState.Unclaimed ? "no room" : undefined });
    await putEvacuating(h);
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(false));
    expect(await readEvacuating(h)).toBeUndefined();
  });

  it("instance missing and another cell's evacuating record: CannotBeRemoved is swallowed, keep false", async () => {
    await putEvacuating(h, { instance: cellB });
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(false));
    expect(await readEvacuating(h)).toBeDefined();
  });

  it("atomic pair: when the instance changes between the read and the write, NEITHER half is written (the original left the evacuating record behind) — keep true, ActualLRPCannotBeUnclaimed", async () => {
    await putInstance(h, ActualLRPState.Claimed);
    h.store.raceOnce(instancePath(), () => startActualLRP({ ...h.ctx, store: h.store.raw }, key(), cellA, netB));
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(true, ErrorType.ActualLRPCannotBeUnclaimed));
    expect(await readEvacuating(h)).toBeUndefined();
    expect((await readInstance(h))?.lrp.state).toBe("RUNNING");
    expect(h.auctioneer.lrpStarts).toEqual([]);
  });

  it("atomic pair: an evacuating create that collides leaves the instance as it was — keep true, ActualLRPCannotBeStarted", async () => {
    const instance = await putInstance(h, ActualLRPState.Running);
    h.store.raceOnce(evacuatingPath(), async () => {
      await putEvacuating(h, { instance: cellB, net: netB });
    });
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(true, ErrorType.ActualLRPCannotBeStarted));
    expect((await readInstance(h))?.node.version).toBe(instance.version);
    expect((await readEvacuating(h))?.lrp.actualLrpInstanceKey).toMatchObject({ cellId: "cell-b" });
  });

  it("a lost evacuating update: keep true, ResourceConflict", async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    await putEvacuating(h, { net: netB });
    h.store.raceOnce(evacuatingPath(), async () => {
      await putEvacuating(h, { net: netB });
    });
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(true, ErrorType.ResourceConflict));
  });

  it("a read that fails: keep true with the error", async () => {
    h.store.override("get", async () => {
      throw new Error("throttled");
    });
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(true, ErrorType.UnknownError));
  });

  it("decision: an auction failure leaves the pair stored and answers keep true without an error", async () => {
    h.auctioneer.failWith = new Error("auctioneer down");
    await putInstance(h, ActualLRPState.Running);
    expect(await evacuateRunningActualLRP(h.ctx, key(), cellA, netA, 60n)).toEqual(result(true));
    expect((await readInstance(h))?.lrp.state).toBe("UNCLAIMED");
    expect(await readEvacuating(h)).toBeDefined();
  });
});

describe("evacuateClaimedActualLRP", () => {
  it("own CLAIMED: unclaimed, auctioned, own evacuating record removed in the same write, keep false", async () => {
    await putInstance(h, ActualLRPState.Claimed);
    await putEvacuating(h);
    h.clock.advance(1000);
    expect(await evacuateClaimedActualLRP(h.ctx, key(), cellA)).toEqual(result(false));
    expect((await readInstance(h))?.lrp).toMatchObject({ state: "UNCLAIMED", since: h.clock.nowNs() });
    expect(await readEvacuating(h)).toBeUndefined();
    expect(h.auctioneer.requested).toEqual([[{ processGuid: GUID, indices: [0] }]]);
  });

  it("another cell's instance: ActualLRPCannotBeUnclaimed, keep false, own evacuating record still removed", async () => {
    await putInstance(h, ActualLRPState.Claimed, { instance: cellB });
    await putEvacuating(h);
    expect(await evacuateClaimedActualLRP(h.ctx, key(), cellA)).toEqual(result(false, ErrorType.ActualLRPCannotBeUnclaimed));
    expect(await readEvacuating(h)).toBeUndefined();
    expect((await readInstance(h))?.lrp.state).toBe("CLAIMED");
  });

  it("missing instance: success, keep false", async () => {
    expect(await evacuateClaimedActualLRP(h.ctx, key(), cellA)).toEqual(result(false));
  });

  it("the evacuating removal failing (record changed meanwhile) is ignored as in the original: the instance is still unclaimed", async () => {
    await putInstance(h, ActualLRPState.Claimed);
    await putEvacuating(h);
    h.store.raceOnce(evacuatingPath(), async () => {
      await putEvacuating(h, { net: netB });
    });
    expect(await evacuateClaimedActualLRP(h.ctx, key(), cellA)).toEqual(result(false));
    expect((await readInstance(h))?.lrp.state).toBe("UNCLAIMED");
    expect(await readEvacuating(h)).toBeDefined();
  });

  it("a lost unclaim: ActualLRPCannotBeUnclaimed and the own evacuating record is not removed either (one write)", async () => {
    await putInstance(h, ActualLRPState.Claimed);
    await putEvacuating(h);
    h.store.raceOnce(instancePath(), () => claimActualLRP({ ...h.ctx, store: h.store.raw }, GUID, 0, cellA));
    expect(await evacuateClaimedActualLRP(h.ctx, key(), cellA)).toEqual(result(false, ErrorType.ActualLRPCannotBeUnclaimed));
    expect(await readEvacuating(h)).toBeDefined();
  });

  it("without a desired LRP: the instance is deleted, no auction with a null desired LRP, the evacuating record is not touched by that delete", async () => {
    await h.store.raw.delete(desiredLRPKey(GUID));
    await putInstance(h, ActualLRPState.Claimed);
    await putEvacuating(h, { instance: cellB });
    expect(await evacuateClaimedActualLRP(h.ctx, key(), cellA)).toEqual(result(false));
    expect(await readInstance(h)).toBeUndefined();
    expect(await readEvacuating(h)).toBeDefined();
    expect(h.auctioneer.lrpStarts).toEqual([]);
  });
});

describe("evacuateStoppedActualLRP", () => {
  it("own instance: deleted together with the own evacuating record, keep false", async () => {
    await putInstance(h, ActualLRPState.Running);
    await putEvacuating(h);
    expect(await evacuateStoppedActualLRP(h.ctx, key(), cellA)).toEqual(result(false));
    expect(await readInstance(h)).toBeUndefined();
    expect(await readEvacuating(h)).toBeUndefined();
  });

  it("another cell's or an UNCLAIMED instance: ActualLRPCannotBeRemoved, keep false; missing: success", async () => {
    await putInstance(h, ActualLRPState.Unclaimed);
    expect(await evacuateStoppedActualLRP(h.ctx, key(), cellA)).toEqual(result(false, ErrorType.ActualLRPCannotBeRemoved));
    await putInstance(h, ActualLRPState.Running, { instance: cellB });
    expect(await evacuateStoppedActualLRP(h.ctx, key(), cellA)).toEqual(result(false, ErrorType.ActualLRPCannotBeRemoved));
    expect(await evacuateStoppedActualLRP(h.ctx, key(7), cellA)).toEqual(result(false));
  });

  it("a lost delete: ActualLRPCannotBeRemoved, keep false", async () => {
    await putInstance(h, ActualLRPState.Running);
    h.store.raceOnce(instancePath(), () => claimActualLRP({ ...h.ctx, store: h.store.raw }, GUID, 0, cellA));
    expect(await evacuateStoppedActualLRP(h.ctx, key(), cellA)).toEqual(result(false, ErrorType.ActualLRPCannotBeRemoved));
  });
});

describe("evacuateCrashedActualLRP", () => {
  it("own instance: the crash rules (UNCLAIMED + auction for an early crash), own evacuating record removed, keep false", async () => {
    await putInstance(h, ActualLRPState.Running);
    await putEvacuating(h);
    expect(await evacuateCrashedActualLRP(h.ctx, key(), cellA, "exit 137")).toEqual(result(false));
    expect((await readInstance(h))?.lrp).toMatchObject({ state: "UNCLAIMED", crashCount: 1, crashReason: "exit 137" });
    expect(await readEvacuating(h)).toBeUndefined();
    expect(h.auctioneer.lrpStarts).toHaveLength(1);
  });

  it("missing: success; another cell's: ActualLRPCannotBeCrashed; both keep false", async () => {
    expect(await evacuateCrashedActualLRP(h.ctx, key(), cellA, "x")).toEqual(result(false));
    await putInstance(h, ActualLRPState.Running, { instance: cellB });
    expect(await evacuateCrashedActualLRP(h.ctx, key(), cellA, "x")).toEqual(result(false, ErrorType.ActualLRPCannotBeCrashed));
  });
});

describe("removeEvacuatingActualLRP", () => {
  it("missing: success; another cell's: ActualLRPCannotBeRemoved; own: removed, the instance untouched", async () => {
    await removeEvacuatingActualLRP(h.ctx, key(), cellA);
    await putEvacuating(h, { instance: cellB });
    await expect(removeEvacuatingActualLRP(h.ctx, key(), cellA)).rejects.toMatchObject({ type: ErrorType.ActualLRPCannotBeRemoved });
    const instance = await putInstance(h, ActualLRPState.Unclaimed);
    await putEvacuating(h);
    await removeEvacuatingActualLRP(h.ctx, key(), cellA);
    expect(await readEvacuating(h)).toBeUndefined();
    expect((await readInstance(h))?.node.version).toBe(instance.version);
  });

  it("a lost delete: ActualLRPCannotBeRemoved", async () => {
    await putEvacuating(h);
    h.store.raceOnce(evacuatingPath(), async () => {
      await putEvacuating(h, { net: netB });
    });
    await expect(removeEvacuatingActualLRP(h.ctx, key(), cellA)).rejects.toMatchObject({ type: ErrorType.ActualLRPCannotBeRemoved });
  });
});

describe("evacuationResponse", () => {
  it("carries keep_container beside the error", () => {
    expect(evacuationResponse({ keepContainer: true, error: actualLRPCannotBeUnclaimed() })).toMatchObject({
      keepContainer: true,
      error: { type: "ActualLRPCannotBeUnclaimed", message: "cannot unclaim actual LRP" },
    });
    expect(evacuationResponse({ keepContainer: false })).toEqual({ keepContainer: false });
  });
});
