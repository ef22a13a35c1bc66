// Every row of the operation tables of semantics §2.2 and §2.3 (and the crash rules of §3) as pure
// cases: a current record (or none) and a request in, the change to store or the error out. Retire's
// rows depend on the cell lookup and the rep, so they are in test/integration/actual-lrp-lifecycle.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ActualLRPInstanceKeySchema,
  ActualLRPNetInfoSchema,
  ActualLRPSchema,
  PortMappingSchema,
  type ActualLRP,
  type ActualLRPInstanceKey,
  type ActualLRPNetInfo,
} from "../../core/gen/models/actual_lrp_pb";
import { ModificationTagSchema } from "../../core/gen/models/modification_tag_pb";
import { ActualLRPState, actualLRPKey, emptyInstanceKey } from "../../core/models/actual-lrp";
import {
  allowsTransitionTo,
  claimTransition,
  crashTransition,
  evacuatingWriteTransition,
  failTransition,
  planEvacuateClaimed,
  planEvacuateCrashed,
  planEvacuateRunning,
  planEvacuateStopped,
  removeEvacuatingTransition,
  removeTransition,
  startTransition,
  unclaimTransition,
  type EvacuationPlan,
  type Transition,
} from "../../core/models/actual-lrp-transitions";
import { ErrorType } from "../../core/models/errors";

const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;
const NOW = 1_767_225_600_000_000_000n; // 2026-01-01 in Unix ns
const EARLIER = NOW - 10n * SECOND;

const key = actualLRPKey("process-guid", 1, "cf-apps");
const otherDomainKey = actualLRPKey("process-guid", 1, "other-domain");
const instanceKey = (instanceGuid: string, cellId: string): ActualLRPInstanceKey => create(ActualLRPInstanceKeySchema, { instanceGuid, cellId });
const own = instanceKey("instance-a", "cell-a");
const other = instanceKey("instance-b", "cell-b");
const netInfo = (address: string, ...ports: [number, number][]): ActualLRPNetInfo =>
  create(ActualLRPNetInfoSchema, { address, ports: ports.map(([containerPort, hostPort]) => create(PortMappingSchema, { containerPort, hostPort })) });
const net = netInfo("10.0.0.1", [8080, 61001], [2222, 61002]);
const otherNet = netInfo("10.0.0.2", [8080, 61003]);

interface RecordOptions {
  instance?: ActualLRPInstanceKey;
  net?: ActualLRPNetInfo;
  placementError?: string;
  crashCount?: number;
  crashReason?: string;
  since?: bigint;
  domain?: string;
}

/** A stored record as the tables describe it; claimed and running ones belong to `own` unless told. */
function record(state: ActualLRPState, options: RecordOptions = {}): ActualLRP {
  const holds = state === ActualLRPState.Claimed || state === ActualLRPState.Running;
  return create(ActualLRPSchema, {
    actualLrpKey: actualLRPKey(key.processGuid, key.index, options.domain ?? key.domain),
    actualLrpInstanceKey: options.instance ?? (holds ? own : emptyInstanceKey()),
    actualLrpNetInfo: options.net ?? (state === ActualLRPState.Running ? net : netInfo("")),
    crashCount: options.crashCount ?? 0,
    crashReason: options.crashReason ?? "",
    state,
    placementError: options.placementError ?? "",
    since: options.since ?? EARLIER,
    modificationTag: create(ModificationTagSchema, { epoch: "epoch-1", index: 3 }),
  });
}

const unclaimed = (options?: RecordOptions) => record(ActualLRPState.Unclaimed, options);
const claimed = (options?: RecordOptions) => record(ActualLRPState.Claimed, options);
const running = (options?: RecordOptions) => record(ActualLRPState.Running, options);
const crashed = (options?: RecordOptions) => record(ActualLRPState.Crashed, options);

function written(t: Transition | EvacuationPlan["instance"]): ActualLRP {
  if (t.kind !== "write") throw new Error(`expected a write, got ${t.kind}${t.kind === "refused" ? ` (${t.error.type})` : ""}`);
  return t.lrp;
}

function refusedWith(t: Transition): string {
  if (t.kind !== "refused") throw new Error(`expected a refusal, got ${t.kind}`);
  return t.error.type;
}

const tagOf = (lrp: ActualLRP) => ({ epoch: lrp.modificationTag?.epoch, index: lrp.modificationTag?.index });
const instanceOf = (lrp: ActualLRP) => ({ instanceGuid: lrp.actualLrpInstanceKey?.instanceGuid, cellId: lrp.actualLrpInstanceKey?.cellId });
const netOf = (lrp: ActualLRP) => ({
  address: lrp.actualLrpNetInfo?.address ?? "",
  ports: (lrp.actualLrpNetInfo?.ports ?? []).map((p) => [p.containerPort, p.hostPort]),
});
const noNet = { address: "", ports: [] };
const noInstance = { instanceGuid: "", cellId: "" };

describe("allowsTransitionTo (models/actual_lrp.go)", () => {
  it("refuses any transition under another LRP key, domain included", () => {
    expect(allowsTransitionTo(unclaimed(), otherDomainKey, own, ActualLRPState.Claimed)).toBe(false);
  });
  it("lets CLAIMED go RUNNING under any instance key, but not CLAIMED/RUNNING change hands otherwise", () => {
    expect(allowsTransitionTo(claimed({ instance: other }), key, own, ActualLRPState.Running)).toBe(true);
    expect(allowsTransitionTo(claimed({ instance: other }), key, own, ActualLRPState.Claimed)).toBe(false);
    expect(allowsTransitionTo(running({ instance: other }), key, own, ActualLRPState.Running)).toBe(false);
    expect(allowsTransitionTo(running({ instance: other }), key, own, ActualLRPState.Claimed)).toBe(false);
    expect(allowsTransitionTo(running(), key, own, ActualLRPState.Claimed)).toBe(true);
  });
});

describe("ClaimActualLRP (§2.2)", () => {
  it("missing: ResourceNotFound", () => {
    expect(refusedWith(claimTransition(undefined, own))).toBe(ErrorType.ResourceNotFound);
  });

  it.each([
    ["UNCLAIMED", unclaimed({ crashCount: 1, crashReason: "boom" })],
    ["UNCLAIMED with a placement error", unclaimed({ placementError: "insufficient resources", crashCount: 1, crashReason: "boom" })],
  ])("%s: CLAIMED by the request's instance, net info and placement error cleared, tag + 1, since unchanged", (_, current) => {
    const lrp = written(claimTransition(current, own));
    expect(lrp.state).toBe(ActualLRPState.Claimed);
    expect(instanceOf(lrp)).toEqual({ instanceGuid: "instance-a", cellId: "cell-a" });
    expect(netOf(lrp)).toEqual(noNet);
    expect(lrp.placementError).toBe("");
    expect(tagOf(lrp)).toEqual({ epoch: "epoch-1", index: 4 });
    expect(lrp.since).toBe(EARLIER);
    expect([lrp.crashCount, lrp.crashReason]).toEqual([1, "boom"]);
  });

  it("CLAIMED by the same instance: written again (no idempotent short-circuit), tag + 1", () => {
    const lrp = written(claimTransition(claimed(), own));
    expect(lrp.state).toBe(ActualLRPState.Claimed);
    expect(tagOf(lrp)).toEqual({ epoch: "epoch-1", index: 4 });
  });

  it("CLAIMED by another instance: ActualLRPCannotBeClaimed", () => {
    expect(refusedWith(claimTransition(claimed({ instance: other }), own))).toBe(ErrorType.ActualLRPCannotBeClaimed);
  });

  it("RUNNING by the same instance: back to CLAIMED, net info wiped, since unchanged", () => {
    const lrp = written(claimTransition(running(), own));
    expect(lrp.state).toBe(ActualLRPState.Claimed);
    expect(netOf(lrp)).toEqual(noNet);
    expect(lrp.since).toBe(EARLIER);
    expect(tagOf(lrp).index).toBe(4);
  });

  it("RUNNING by another instance: ActualLRPCannotBeClaimed", () => {
    expect(refusedWith(claimTransition(running({ instance: other }), own))).toBe(ErrorType.ActualLRPCannotBeClaimed);
  });

  it("CRASHED: allowed, CLAIMED keeping crash count and reason", () => {
    const lrp = written(claimTransition(crashed({ crashCount: 4, crashReason: "oom" }), own));
    expect(lrp.state).toBe(ActualLRPState.Claimed);
    expect([lrp.crashCount, lrp.crashReason]).toEqual([4, "oom"]);
  });

  it("a result that fails validation is refused with InvalidRecord and the validation text", () => {
    const t = claimTransition(unclaimed({ domain: "" }), own);
    expect(t).toMatchObject({ kind: "refused", error: { type: ErrorType.InvalidRecord, message: "Invalid field: domain" } });
  });
});

describe("StartActualLRP (§2.2)", () => {
  it("missing: a new RUNNING record, new epoch, tag index 0, since = now, crash count 0", () => {
    const lrp = written(startTransition(undefined, key, own, net, NOW));
    expect(lrp.state).toBe(ActualLRPState.Running);
    expect(lrp.actualLrpKey).toMatchObject({ processGuid: "process-guid", index: 1, domain: "cf-apps" });
    expect(instanceOf(lrp)).toEqual({ instanceGuid: "instance-a", cellId: "cell-a" });
    expect(netOf(lrp)).toEqual(netOf(running()));
    expect(lrp.modificationTag?.epoch).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lrp.modificationTag?.index).toBe(0);
    expect(lrp.since).toBe(NOW);
    expect(lrp.crashCount).toBe(0);
    const again = written(startTransition(undefined, key, own, net, NOW));
    expect(again.modificationTag?.epoch).not.toBe(lrp.modificationTag?.epoch);
  });

  it("RUNNING by the same instance with identical key and net info: no write", () => {
    expect(startTransition(running(), key, own, netInfo("10.0.0.1", [8080, 61001], [2222, 61002]), NOW)).toEqual({ kind: "unchanged" });
  });

  it("ports are compared in order: the same ports reordered are a change", () => {
    expect(written(startTransition(running(), key, own, netInfo("10.0.0.1", [2222, 61002], [8080, 61001]), NOW)).since).toBe(NOW);
  });

  it.each([
    ["UNCLAIMED", unclaimed({ placementError: "was unplaceable", crashCount: 2, crashReason: "boom" })],
    ["CLAIMED by the same instance", claimed({ crashCount: 2, crashReason: "boom" })],
    ["CLAIMED by another cell (start wins over a claim)", claimed({ instance: other, crashCount: 2, crashReason: "boom" })],
    ["RUNNING by the same instance with other net info", running({ net: otherNet, crashCount: 2, crashReason: "boom" })],
    ["CRASHED", crashed({ crashCount: 2, crashReason: "boom" })],
  ])("%s: RUNNING under the request's instance and net info, since = now, placement error cleared, tag + 1", (_, current) => {
    const lrp = written(startTransition(current, key, own, net, NOW));
    expect(lrp.state).toBe(ActualLRPState.Running);
    expect(instanceOf(lrp)).toEqual({ instanceGuid: "instance-a", cellId: "cell-a" });
    expect(netOf(lrp)).toEqual(netOf(running()));
    expect(lrp.since).toBe(NOW);
    expect(lrp.placementError).toBe("");
    expect(tagOf(lrp)).toEqual({ epoch: "epoch-1", index: 4 });
    expect([lrp.crashCount, lrp.crashReason]).toEqual([2, "boom"]);
  });

  it("RUNNING by another instance: ActualLRPCannotBeStarted", () => {
    expect(refusedWith(startTransition(running({ instance: other }), key, own, net, NOW))).toBe(ErrorType.ActualLRPCannotBeStarted);
  });

  it("stored domain differs from the request's: ActualLRPCannotBeStarted, even for an otherwise identical RUNNING record", () => {
    expect(refusedWith(startTransition(unclaimed(), otherDomainKey, own, net, NOW))).toBe(ErrorType.ActualLRPCannotBeStarted);
    expect(refusedWith(startTransition(running(), otherDomainKey, own, net, NOW))).toBe(ErrorType.ActualLRPCannotBeStarted);
  });
});

describe("CrashActualLRP (§2.2, §3)", () => {
  it("missing: ResourceNotFound", () => {
    expect(refusedWith(crashTransition(undefined, key, own, "boom", NOW))).toBe(ErrorType.ResourceNotFound);
  });

  it.each([
    ["UNCLAIMED", unclaimed(), key],
    ["CRASHED", crashed(), key],
    ["CLAIMED by another instance", claimed({ instance: other }), key],
    ["RUNNING by another instance", running({ instance: other }), key],
    ["its own record under another domain", running(), otherDomainKey],
  ])("%s: ActualLRPCannotBeCrashed", (_, current, requestKey) => {
    expect(refusedWith(crashTransition(current, requestKey, own, "boom", NOW))).toBe(ErrorType.ActualLRPCannotBeCrashed);
  });

  it.each([
    ["CLAIMED", claimed()],
    ["RUNNING", running()],
  ])("%s by the same instance, first crash: stored UNCLAIMED (immediate restart), count 1, reason, since = now, keys cleared, tag + 1", (_, current) => {
    const lrp = written(crashTransition(current, key, own, "exited with status 1", NOW));
    expect(lrp.state).toBe(ActualLRPState.Unclaimed);
    expect(lrp.crashCount).toBe(1);
    expect(lrp.crashReason).toBe("exited with status 1");
    expect(lrp.since).toBe(NOW);
    expect(instanceOf(lrp)).toEqual(noInstance);
    expect(netOf(lrp)).toEqual(noNet);
    expect(tagOf(lrp)).toEqual({ epoch: "epoch-1", index: 4 });
  });

  it("the second consecutive crash still restarts at once (count 2, UNCLAIMED)", () => {
    const lrp = written(crashTransition(running({ crashCount: 1 }), key, own, "boom", NOW));
    expect([lrp.state, lrp.crashCount]).toEqual([ActualLRPState.Unclaimed, 2]);
  });

  it("from the third crash on the record stays CRASHED for convergence's backoff", () => {
    expect(written(crashTransition(running({ crashCount: 2 }), key, own, "boom", NOW))).toMatchObject({ state: "CRASHED", crashCount: 3 });
    expect(written(crashTransition(claimed({ crashCount: 198 }), key, own, "boom", NOW))).toMatchObject({ state: "CRASHED", crashCount: 199 });
    expect(written(crashTransition(claimed({ crashCount: 199 }), key, own, "boom", NOW))).toMatchObject({ state: "CRASHED", crashCount: 200 });
  });

  it("a RUNNING record started more than 5 minutes ago counts afresh from 1 (and so restarts at once)", () => {
    const lrp = written(crashTransition(running({ crashCount: 7, since: NOW - 5n * MINUTE - 1n }), key, own, "boom", NOW));
    expect([lrp.state, lrp.crashCount]).toEqual([ActualLRPState.Unclaimed, 1]);
  });

  it("exactly 5 minutes is not more than 5 minutes: the count goes on", () => {
    expect(written(crashTransition(running({ crashCount: 7, since: NOW - 5n * MINUTE }), key, own, "boom", NOW)).crashCount).toBe(8);
  });

  it("a crash from CLAIMED never resets the count, however old since is", () => {
    const lrp = written(crashTransition(claimed({ crashCount: 7, since: NOW - 60n * MINUTE }), key, own, "boom", NOW));
    expect([lrp.state, lrp.crashCount]).toEqual([ActualLRPState.Crashed, 8]);
  });
});

describe("FailActualLRP (§2.2)", () => {
  it("missing: ResourceNotFound", () => {
    expect(refusedWith(failTransition(undefined, "no cells", NOW))).toBe(ErrorType.ResourceNotFound);
  });

  it("UNCLAIMED: placement error set, since = now, tag + 1", () => {
    const lrp = written(failTransition(unclaimed({ crashCount: 1 }), "insufficient resources", NOW));
    expect(lrp).toMatchObject({ state: "UNCLAIMED", placementError: "insufficient resources", since: NOW, crashCount: 1 });
    expect(tagOf(lrp)).toEqual({ epoch: "epoch-1", index: 4 });
  });

  it.each([
    ["CLAIMED", claimed()],
    ["RUNNING", running()],
    ["CRASHED", crashed()],
  ])("%s: ActualLRPCannotBeFailed", (_, current) => {
    expect(refusedWith(failTransition(current, "x", NOW))).toBe(ErrorType.ActualLRPCannotBeFailed);
  });
});

describe("RemoveActualLRP (§2.2)", () => {
  it("missing: ResourceNotFound", () => {
    expect(refusedWith(removeTransition(undefined))).toBe(ErrorType.ResourceNotFound);
  });

  it.each([unclaimed(), claimed({ instance: other }), running({ instance: other }), crashed()])("any state ($state), any owner: deleted", (current) => {
    expect(removeTransition(current)).toEqual({ kind: "delete" });
  });
});

describe("unclaim helper (§2.3)", () => {
  it("another LRP key: ActualLRPCannotBeUnclaimed", () => {
    expect(refusedWith(unclaimTransition(claimed(), otherDomainKey, own, NOW))).toBe(ErrorType.ActualLRPCannotBeUnclaimed);
  });

  it("already UNCLAIMED: success, no change", () => {
    expect(unclaimTransition(unclaimed(), key, own, NOW)).toEqual({ kind: "unchanged" });
  });

  it.each([
    ["CLAIMED by another instance", claimed({ instance: other })],
    ["RUNNING by another instance", running({ instance: other })],
    ["CRASHED (its instance key is empty)", crashed()],
  ])("%s: ActualLRPCannotBeUnclaimed", (_, current) => {
    expect(refusedWith(unclaimTransition(current, key, own, NOW))).toBe(ErrorType.ActualLRPCannotBeUnclaimed);
  });

  it("CRASHED with the empty instance key (convergence's restart): UNCLAIMED keeping crash count and reason", () => {
    const lrp = written(unclaimTransition(crashed({ crashCount: 4, crashReason: "oom" }), key, emptyInstanceKey(), NOW));
    expect(lrp).toMatchObject({ state: "UNCLAIMED", crashCount: 4, crashReason: "oom", since: NOW });
  });

  it.each([
    ["CLAIMED", claimed()],
    ["RUNNING", running()],
  ])("%s by the same instance: UNCLAIMED, since = now, instance key and net info cleared, tag + 1", (_, current) => {
    const lrp = written(unclaimTransition(current, key, own, NOW));
    expect(lrp.state).toBe(ActualLRPState.Unclaimed);
    expect(lrp.since).toBe(NOW);
    expect(instanceOf(lrp)).toEqual(noInstance);
    expect(netOf(lrp)).toEqual(noNet);
    expect(tagOf(lrp)).toEqual({ epoch: "epoch-1", index: 4 });
  });
});

describe("RemoveEvacuating helper (§2.3)", () => {
  it("missing: success without a write", () => {
    expect(removeEvacuatingTransition(undefined, key, own)).toEqual({ kind: "unchanged" });
  });
  it("another LRP key or another instance: ActualLRPCannotBeRemoved", () => {
    expect(refusedWith(removeEvacuatingTransition(running(), otherDomainKey, own))).toBe(ErrorType.ActualLRPCannotBeRemoved);
    expect(refusedWith(removeEvacuatingTransition(running({ instance: other }), key, own))).toBe(ErrorType.ActualLRPCannotBeRemoved);
  });
  it("the cell's own record: deleted", () => {
    expect(removeEvacuatingTransition(running(), key, own)).toEqual({ kind: "delete" });
  });
});

describe("write evacuating helper (§2.3)", () => {
  for (const conditional of [false, true]) {
    const variant = conditional ? "conditional" : "unconditional";
    it(`${variant}, no record: created RUNNING with I and N, since = now, new epoch, tag index 1`, () => {
      const lrp = written(evacuatingWriteTransition(undefined, key, own, net, NOW, { conditional }));
      expect(lrp.state).toBe(ActualLRPState.Running);
      expect(instanceOf(lrp)).toEqual({ instanceGuid: "instance-a", cellId: "cell-a" });
      expect(netOf(lrp)).toEqual(netOf(running()));
      expect(lrp.since).toBe(NOW);
      expect(lrp.modificationTag?.epoch).toMatch(/^[0-9a-f-]{36}$/);
      expect(lrp.modificationTag?.index).toBe(1);
    });

    it(`${variant}, the same key, instance, address and ports: no write (so no TTL refresh)`, () => {
      expect(evacuatingWriteTransition(running(), key, own, net, NOW, { conditional })).toEqual({ kind: "unchanged" });
    });

    it(`${variant}, its own record with other net info: updated, since = now, placement error cleared, tag + 1`, () => {
      const lrp = written(evacuatingWriteTransition(running({ net: otherNet }), key, own, net, NOW, { conditional }));
      expect(netOf(lrp)).toEqual(netOf(running()));
      expect(lrp.since).toBe(NOW);
      expect(lrp.placementError).toBe("");
      expect(tagOf(lrp)).toEqual({ epoch: "epoch-1", index: 4 });
    });
  }

  it("unconditional, another cell's record: overwritten with this cell's instance (tag + 1 on that record's epoch)", () => {
    const lrp = written(evacuatingWriteTransition(running({ instance: other, net: otherNet }), key, own, net, NOW, { conditional: false }));
    expect(instanceOf(lrp)).toEqual({ instanceGuid: "instance-a", cellId: "cell-a" });
    expect(tagOf(lrp)).toEqual({ epoch: "epoch-1", index: 4 });
  });

  it("conditional, another cell's record: ActualLRPCannotBeEvacuated, no write", () => {
    expect(refusedWith(evacuatingWriteTransition(running({ instance: other }), key, own, net, NOW, { conditional: true }))).toBe(
      ErrorType.ActualLRPCannotBeEvacuated,
    );
  });
});

/** The parts of a plan a table row states. */
function summary(plan: EvacuationPlan) {
  return {
    evacuating: plan.evacuating.kind === "write" ? "write" : plan.evacuating.kind,
    instance: plan.instance.kind === "write" ? plan.instance.lrp.state : plan.instance.kind,
    keep: plan.keepContainer,
    error: plan.error?.type,
    auction: plan.auction,
  };
}

const ownEvacuating = () => running();
const otherEvacuating = () => running({ instance: other, net: otherNet });

describe("EvacuateClaimedActualLRP (§2.3)", () => {
  const evacuate = (instance?: ActualLRP, evacuating?: ActualLRP) => summary(planEvacuateClaimed({ instance, evacuating }, key, own, NOW));

  it("missing instance: nothing, keep false, no error", () => {
    expect(evacuate(undefined)).toEqual({ evacuating: "unchanged", instance: "unchanged", keep: false, error: undefined, auction: false });
  });

  it("UNCLAIMED: unchanged, no auction, keep false", () => {
    expect(evacuate(unclaimed())).toEqual({ evacuating: "unchanged", instance: "unchanged", keep: false, error: undefined, auction: false });
  });

  it.each([
    ["CLAIMED", claimed()],
    ["RUNNING", running()],
  ])("%s by the same instance: UNCLAIMED (since = now, tag + 1) and an auction for the index, keep false", (_, instance) => {
    expect(evacuate(instance)).toEqual({ evacuating: "unchanged", instance: "UNCLAIMED", keep: false, error: undefined, auction: true });
    const lrp = written(planEvacuateClaimed({ instance }, key, own, NOW).instance);
    expect([lrp.since, tagOf(lrp).index]).toEqual([NOW, 4]);
  });

  it.each([
    ["CLAIMED by another instance", claimed({ instance: other })],
    ["RUNNING by another instance", running({ instance: other })],
    ["CRASHED", crashed()],
  ])("%s: unchanged, keep false, ActualLRPCannotBeUnclaimed", (_, instance) => {
    expect(evacuate(instance)).toEqual({ evacuating: "unchanged", instance: "unchanged", keep: false, error: "ActualLRPCannotBeUnclaimed", auction: false });
  });

  it.each([undefined, unclaimed(), claimed(), claimed({ instance: other }), crashed()])("the cell's own evacuating record is removed in every row (instance $state)", (instance) => {
    expect(evacuate(instance, ownEvacuating()).evacuating).toBe("delete");
    expect(evacuate(instance, otherEvacuating()).evacuating).toBe("unchanged");
  });
});

describe("EvacuateRunningActualLRP (§2.3)", () => {
  const evacuate = (instance?: ActualLRP, evacuating?: ActualLRP, requestNet = net) =>
    summary(planEvacuateRunning({ instance, evacuating }, key, own, requestNet, NOW));
  const nothing = { evacuating: "unchanged", instance: "unchanged", error: undefined, auction: false };

  describe("instance missing", () => {
    it.each([
      ["no evacuating record", undefined, "unchanged"],
      ["its own", ownEvacuating(), "delete"],
      ["another cell's (CannotBeRemoved, swallowed)", otherEvacuating(), "unchanged"],
    ])("%s: own removed, keep false, no error", (_, evacuating, change) => {
      expect(evacuate(undefined, evacuating)).toEqual({ ...nothing, evacuating: change, keep: false });
    });
  });

  describe.each([
    ["UNCLAIMED without a placement error", () => unclaimed()],
    ["CLAIMED by another instance", () => claimed({ instance: other })],
  ])("%s: the conditional evacuating write", (_, instance) => {
    it("no evacuating record: created, keep true", () => {
      expect(evacuate(instance(), undefined)).toEqual({ ...nothing, evacuating: "write", keep: true });
    });
    it("its own, identical: no write (TTL not refreshed), keep true", () => {
      expect(evacuate(instance(), ownEvacuating())).toEqual({ ...nothing, keep: true });
    });
    it("its own, other net info: updated with a new TTL, keep true", () => {
      expect(evacuate(instance(), running({ net: otherNet }))).toEqual({ ...nothing, evacuating: "write", keep: true });
    });
    it("another cell's: nothing, keep false", () => {
      expect(evacuate(instance(), otherEvacuating())).toEqual({ ...nothing, keep: false });
    });
  });

  describe.each([
    ["CLAIMED by the same instance", () => claimed()],
    ["RUNNING by the same instance", () => running()],
  ])("%s: the unconditional evacuating write, then unclaim and auction, keep true", (_, instance) => {
    it.each([
      ["no evacuating record (created)", undefined, "write"],
      ["its own, identical (no write)", ownEvacuating(), "unchanged"],
      ["its own, other net info (updated)", running({ net: otherNet }), "write"],
      ["another cell's (overwritten)", otherEvacuating(), "write"],
    ])("%s", (_, evacuating, change) => {
      expect(evacuate(instance(), evacuating)).toEqual({ evacuating: change, instance: "UNCLAIMED", keep: true, error: undefined, auction: true });
    });

    it("the evacuating record written carries the request's instance and net info", () => {
      const plan = planEvacuateRunning({ instance: instance(), evacuating: otherEvacuating() }, key, own, net, NOW);
      const lrp = written(plan.evacuating);
      expect([instanceOf(lrp), netOf(lrp)]).toEqual([{ instanceGuid: "instance-a", cellId: "cell-a" }, netOf(running())]);
    });
  });

  it("own instance under another domain: unclaim refused, so nothing is written at all (stricter than the original), keep true", () => {
    const plan = planEvacuateRunning({ instance: running({ domain: "other-domain" }) }, key, own, net, NOW);
    expect(summary(plan)).toEqual({ evacuating: "unchanged", instance: "unchanged", keep: true, error: "ActualLRPCannotBeUnclaimed", auction: false });
  });

  describe.each([
    ["UNCLAIMED with a placement error", () => unclaimed({ placementError: "insufficient resources" })],
    ["RUNNING by another instance", () => running({ instance: other })],
    ["CRASHED", () => crashed()],
  ])("%s: RemoveEvacuating(own), keep false", (_, instance) => {
    it.each([
      ["no evacuating record", undefined, "unchanged"],
      ["its own", ownEvacuating(), "delete"],
      ["another cell's", otherEvacuating(), "unchanged"],
    ])("%s", (_, evacuating, change) => {
      expect(evacuate(instance(), evacuating)).toEqual({ ...nothing, evacuating: change, keep: false });
    });
  });
});

describe("EvacuateStoppedActualLRP (§2.3)", () => {
  const evacuate = (instance?: ActualLRP, evacuating?: ActualLRP) => summary(planEvacuateStopped({ instance, evacuating }, key, own));

  it("missing instance: keep false, no error; own evacuating record removed", () => {
    expect(evacuate(undefined, ownEvacuating())).toEqual({ evacuating: "delete", instance: "unchanged", keep: false, error: undefined, auction: false });
  });

  it.each([
    ["UNCLAIMED", unclaimed()],
    ["CRASHED", crashed()],
    ["CLAIMED by another instance", claimed({ instance: other })],
    ["RUNNING by another instance", running({ instance: other })],
  ])("%s (instance key differs): keep false, ActualLRPCannotBeRemoved; own evacuating record still removed", (_, instance) => {
    expect(evacuate(instance, ownEvacuating())).toEqual({
      evacuating: "delete",
      instance: "unchanged",
      keep: false,
      error: "ActualLRPCannotBeRemoved",
      auction: false,
    });
  });

  it.each([
    ["CLAIMED", claimed()],
    ["RUNNING", running()],
  ])("%s by the same instance: deleted, keep false (no state check)", (_, instance) => {
    expect(evacuate(instance, otherEvacuating())).toEqual({ evacuating: "unchanged", instance: "delete", keep: false, error: undefined, auction: false });
  });
});

describe("EvacuateCrashedActualLRP (§2.3)", () => {
  const evacuate = (instance?: ActualLRP, evacuating?: ActualLRP) =>
    summary(planEvacuateCrashed({ instance, evacuating }, key, own, "exited", NOW));

  it("missing instance: keep false, no error", () => {
    expect(evacuate(undefined, ownEvacuating())).toEqual({ evacuating: "delete", instance: "unchanged", keep: false, error: undefined, auction: false });
  });

  it.each([
    ["UNCLAIMED", unclaimed()],
    ["CRASHED", crashed()],
    ["CLAIMED by another instance", claimed({ instance: other })],
    ["RUNNING by another instance", running({ instance: other })],
  ])("%s: keep false, ActualLRPCannotBeCrashed; own evacuating record removed", (_, instance) => {
    expect(evacuate(instance, ownEvacuating())).toEqual({
      evacuating: "delete",
      instance: "unchanged",
      keep: false,
      error: "ActualLRPCannotBeCrashed",
      auction: false,
    });
  });

  it("own instance, early crash: the full crash semantics, stored UNCLAIMED with an auction, keep false", () => {
    expect(evacuate(running(), ownEvacuating())).toEqual({ evacuating: "delete", instance: "UNCLAIMED", keep: false, error: undefined, auction: true });
    const lrp = written(planEvacuateCrashed({ instance: claimed({ crashCount: 1 }) }, key, own, "exited", NOW).instance);
    expect([lrp.crashCount, lrp.crashReason]).toEqual([2, "exited"]);
  });

  it("own instance, third crash: CRASHED, no auction, keep false", () => {
    expect(evacuate(running({ crashCount: 2 }))).toEqual({ evacuating: "unchanged", instance: "CRASHED", keep: false, error: undefined, auction: false });
  });
});
