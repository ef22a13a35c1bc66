// The ActualLRP state machine of semantics §2.2, §2.3 and §3 as pure functions: the current record(s)
// and a request in, the change to store (or the BBS error to answer) out. actual-lrp-lifecycle.ts and
// evacuation.ts only read, store the change with the conditional write that matches their read, and
// name the error of a lost race. Sources at 0344309c: models/actual_lrp.go (AllowsTransitionTo,
// Validate), db/etcd/actual_lrp_db.go, db/etcd/evacuation_db.go.
import { clone } from "@bufbuild/protobuf";
import {
  ActualLRPInstanceKeySchema,
  ActualLRPKeySchema,
  ActualLRPNetInfoSchema,
  ActualLRPSchema,
  type ActualLRP,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
} from "../gen/models/actual_lrp_pb";
import {
  ActualLRPState,
  emptyInstanceKey,
  emptyNetInfo,
  incrementModificationTag,
  newRunningActualLRP,
  sameActualLRPKey,
  sameInstanceKey,
  sameNetInfo,
} from "./actual-lrp";
import {
  actualLRPCannotBeClaimed,
  actualLRPCannotBeCrashed,
  actualLRPCannotBeEvacuated,
  actualLRPCannotBeFailed,
  actualLRPCannotBeRemoved,
  actualLRPCannotBeStarted,
  actualLRPCannotBeUnclaimed,
  invalidRecord,
  resourceNotFound,
  type BbsError,
} from "./errors";
import { nextCrashCount, shouldRestartImmediately } from "./restart-calculator";
import { validateActualLRP, validationMessage } from "./validation";

/** What becomes of one node: a write (create when it was missing, CAS otherwise), a CAD, nothing, or a refusal. */
export type Transition =
  | { kind: "write"; lrp: ActualLRP }
  | { kind: "delete" }
  | { kind: "unchanged" }
  | { kind: "refused"; error: BbsError };

export type Change = Exclude<Transition, { kind: "refused" }>;

const write = (lrp: ActualLRP): Transition => ({ kind: "write", lrp });
const remove: Change = { kind: "delete" };
const unchanged: Change = { kind: "unchanged" };
const refused = (error: BbsError): Transition => ({ kind: "refused", error });

/** The original validated only claim and unclaim results before writing (semantics §1.2). */
function validated(lrp: ActualLRP): Transition {
  const problems = validateActualLRP(lrp);
  return problems.length > 0 ? refused(invalidRecord(validationMessage(problems))) : write(lrp);
}

/** The original's AllowsTransitionTo: CLAIMED → RUNNING always passes, which is how Start beats another cell's claim. */
export function allowsTransitionTo(before: ActualLRP, key: ActualLRPKey | undefined, instanceKey: ActualLRPInstanceKey, to: ActualLRPState): boolean {
  if (!sameActualLRPKey(before.actualLrpKey, key)) return false;
  if (before.state === ActualLRPState.Claimed && to === ActualLRPState.Running) return true;
  const holdsInstance = before.state === ActualLRPState.Claimed || before.state === ActualLRPState.Running;
  const takesInstance = to === ActualLRPState.Claimed || to === ActualLRPState.Running;
  return !(holdsInstance && takesInstance && !sameInstanceKey(before.actualLrpInstanceKey, instanceKey));
}

function next(current: ActualLRP, state: ActualLRPState): ActualLRP {
  const lrp = clone(ActualLRPSchema, current);
  lrp.state = state;
  lrp.modificationTag = incrementModificationTag(current.modificationTag);
  return lrp;
}

// ---------------------------------------------------------------------------------------------------
// The /instance record (§2.2)

/** Claim never touches `since`, and re-claiming one's own record rewrites it (tag + 1) rather than short-circuiting. */
export function claimTransition(current: ActualLRP | undefined, instanceKey: ActualLRPInstanceKey): Transition {
  if (!current) return refused(resourceNotFound());
  // The request carries no domain, so the original compared the stored key with itself.
  if (!allowsTransitionTo(current, current.actualLrpKey, instanceKey, ActualLRPState.Claimed)) return refused(actualLRPCannotBeClaimed());
  const lrp = next(current, ActualLRPState.Claimed);
  lrp.actualLrpInstanceKey = clone(ActualLRPInstanceKeySchema, instanceKey);
  lrp.actualLrpNetInfo = emptyNetInfo();
  lrp.placementError = "";
  return validated(lrp);
}

/** `current` undefined means the key is missing: Start then creates the record RUNNING, desired LRP or not. */
export function startTransition(
  current: ActualLRP | undefined,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  netInfo: ActualLRPNetInfo,
  nowNs: bigint,
): Transition {
  if (!current) return write(newRunningActualLRP(key, instanceKey, netInfo, nowNs));
  if (
    current.state === ActualLRPState.Running &&
    sameActualLRPKey(current.actualLrpKey, key) &&
    sameInstanceKey(current.actualLrpInstanceKey, instanceKey) &&
    sameNetInfo(current.actualLrpNetInfo, netInfo)
  ) {
    return unchanged;
  }
  if (!allowsTransitionTo(current, key, instanceKey, ActualLRPState.Running)) return refused(actualLRPCannotBeStarted());
  const lrp = next(current, ActualLRPState.Running);
  lrp.since = nowNs;
  lrp.actualLrpInstanceKey = clone(ActualLRPInstanceKeySchema, instanceKey);
  lrp.actualLrpNetInfo = clone(ActualLRPNetInfoSchema, netInfo);
  lrp.placementError = "";
  return write(lrp);
}

/**
 * Only the instance's own cell may crash it, from CLAIMED or RUNNING. The first crashes (new count
 * < 3) are stored UNCLAIMED rather than CRASHED, and the caller auctions the index at once.
 */
export function crashTransition(
  current: ActualLRP | undefined,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  message: string,
  nowNs: bigint,
): Transition {
  if (!current) return refused(resourceNotFound());
  const own = sameActualLRPKey(current.actualLrpKey, key) && sameInstanceKey(current.actualLrpInstanceKey, instanceKey);
  const live = current.state === ActualLRPState.Claimed || current.state === ActualLRPState.Running;
  if (!own || !live) return refused(actualLRPCannotBeCrashed());
  const crashCount = nextCrashCount(current.crashCount, current.state === ActualLRPState.Running, current.since, nowNs);
  const lrp = next(current, shouldRestartImmediately(crashCount) ? ActualLRPState.Unclaimed : ActualLRPState.Crashed);
  lrp.crashCount = crashCount;
  lrp.crashReason = message;
  lrp.since = nowNs;
  lrp.actualLrpInstanceKey = emptyInstanceKey();
  lrp.actualLrpNetInfo = emptyNetInfo();
  return write(lrp);
}

/** The auctioneer's report that it could not place an UNCLAIMED instance; `since` restarts the stale-unclaimed clock. */
export function failTransition(current: ActualLRP | undefined, message: string, nowNs: bigint): Transition {
  if (!current) return refused(resourceNotFound());
  if (current.state !== ActualLRPState.Unclaimed) return refused(actualLRPCannotBeFailed());
  const lrp = next(current, ActualLRPState.Unclaimed);
  lrp.placementError = message;
  lrp.since = nowNs;
  return write(lrp);
}

/** Remove has no state or ownership check: the rep removes what it stopped, convergence what it no longer wants. */
export function removeTransition(current: ActualLRP | undefined): Transition {
  return current ? remove : refused(resourceNotFound());
}

/** Shared by evacuation and convergence. CRASHED passes only with an empty instance key, which is what a crashed record holds. */
export function unclaimTransition(current: ActualLRP, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, nowNs: bigint): Transition {
  if (!sameActualLRPKey(current.actualLrpKey, key)) return refused(actualLRPCannotBeUnclaimed());
  if (current.state === ActualLRPState.Unclaimed) return unchanged;
  if (!sameInstanceKey(current.actualLrpInstanceKey, instanceKey)) return refused(actualLRPCannotBeUnclaimed());
  const lrp = next(current, ActualLRPState.Unclaimed);
  lrp.since = nowNs;
  lrp.actualLrpInstanceKey = emptyInstanceKey();
  lrp.actualLrpNetInfo = emptyNetInfo();
  return validated(lrp);
}

// ---------------------------------------------------------------------------------------------------
// The /evacuating record (§2.3)

/** A cell may remove only its own evacuating record; a missing one counts as removed. */
export function removeEvacuatingTransition(evacuating: ActualLRP | undefined, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Transition {
  if (!evacuating) return unchanged;
  if (!sameActualLRPKey(evacuating.actualLrpKey, key) || !sameInstanceKey(evacuating.actualLrpInstanceKey, instanceKey)) {
    return refused(actualLRPCannotBeRemoved());
  }
  return remove;
}

/**
 * Writes the evacuating record: created RUNNING with tag index 1 (built at 0 and incremented once
 * before the create, as the original did); identical → no write, so the TTL is not refreshed;
 * otherwise overwritten, which the conditional variant refuses when the record is another instance's.
 */
export function evacuatingWriteTransition(
  evacuating: ActualLRP | undefined,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  netInfo: ActualLRPNetInfo,
  nowNs: bigint,
  options: { conditional: boolean },
): Transition {
  if (!evacuating) {
    const lrp = newRunningActualLRP(key, instanceKey, netInfo, nowNs);
    lrp.modificationTag = incrementModificationTag(lrp.modificationTag);
    return write(lrp);
  }
  const sameOwner = sameActualLRPKey(evacuating.actualLrpKey, key) && sameInstanceKey(evacuating.actualLrpInstanceKey, instanceKey);
  if (sameOwner && sameNetInfo(evacuating.actualLrpNetInfo, netInfo)) return unchanged;
  if (options.conditional && !sameOwner) return refused(actualLRPCannotBeEvacuated());
  const lrp = next(evacuating, evacuating.state as ActualLRPState);
  lrp.since = nowNs;
  lrp.actualLrpKey = clone(ActualLRPKeySchema, key);
  lrp.actualLrpInstanceKey = clone(ActualLRPInstanceKeySchema, instanceKey);
  lrp.actualLrpNetInfo = clone(ActualLRPNetInfoSchema, netInfo);
  lrp.placementError = "";
  return write(lrp);
}

/** Both halves of an index as read before an evacuation call; undefined = missing. */
export interface IndexRecords {
  instance?: ActualLRP;
  evacuating?: ActualLRP;
}

/** What an evacuation call stores and answers. */
export interface EvacuationPlan {
  /** A delete here is always the cell's own record and best effort: the original ignored RemoveEvacuating's failures. */
  evacuating: Change;
  instance: Change;
  keepContainer: boolean;
  /** Answered once the changes are stored. */
  error?: BbsError;
  /** Auction the index once the instance change is stored. */
  auction: boolean;
}

const plan = (p: Partial<EvacuationPlan> & Pick<EvacuationPlan, "keepContainer">): EvacuationPlan => ({
  evacuating: unchanged,
  instance: unchanged,
  auction: false,
  ...p,
});

function ownEvacuatingRemoval(evacuating: ActualLRP | undefined, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Change {
  const t = removeEvacuatingTransition(evacuating, key, instanceKey);
  return t.kind === "delete" ? t : unchanged;
}

/** A draining cell gives up an instance it claimed: unclaimed and re-auctioned; the container is never kept. */
export function planEvacuateClaimed(records: IndexRecords, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, nowNs: bigint): EvacuationPlan {
  const evacuating = ownEvacuatingRemoval(records.evacuating, key, instanceKey);
  if (!records.instance) return plan({ evacuating, keepContainer: false });
  const t = unclaimTransition(records.instance, key, instanceKey, nowNs);
  if (t.kind === "refused") return plan({ evacuating, keepContainer: false, error: t.error });
  if (t.kind !== "write") return plan({ evacuating, keepContainer: false });
  return plan({ evacuating, instance: t, keepContainer: false, auction: true });
}

/**
 * A draining cell reports a running container. Its own CLAIMED/RUNNING instance moves to the
 * evacuating slot (overwriting any other cell's evacuating record) and is unclaimed and re-auctioned;
 * an instance nobody runs yet gets the evacuating record only if no other cell holds it; otherwise
 * the cell's evacuating record goes and the container is not kept.
 */
export function planEvacuateRunning(
  records: IndexRecords,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  netInfo: ActualLRPNetInfo,
  nowNs: bigint,
): EvacuationPlan {
  const { instance, evacuating } = records;
  const dropOwnEvacuating = () => plan({ evacuating: ownEvacuatingRemoval(evacuating, key, instanceKey), keepContainer: false });
  if (!instance) return dropOwnEvacuating();
  const own = sameInstanceKey(instance.actualLrpInstanceKey, instanceKey);
  const unplaced = instance.state === ActualLRPState.Unclaimed && instance.placementError === "";
  if (unplaced || (instance.state === ActualLRPState.Claimed && !own)) {
    const t = evacuatingWriteTransition(evacuating, key, instanceKey, netInfo, nowNs, { conditional: true });
    if (t.kind === "refused") return plan({ keepContainer: false });
    return plan({ evacuating: t as Change, keepContainer: true });
  }
  if ((instance.state === ActualLRPState.Claimed || instance.state === ActualLRPState.Running) && own) {
    const evacuatingWrite = evacuatingWriteTransition(evacuating, key, instanceKey, netInfo, nowNs, { conditional: false }) as Change;
    const t = unclaimTransition(instance, key, instanceKey, nowNs);
    // Stricter than the original, which wrote the evacuating record before finding the unclaim
    // refused: the pair is stored together or not at all.
    if (t.kind === "refused") return plan({ keepContainer: true, error: t.error });
    return plan({ evacuating: evacuatingWrite, instance: t as Change, keepContainer: true, auction: t.kind === "write" });
  }
  if (
    (instance.state === ActualLRPState.Unclaimed && instance.placementError !== "") ||
    (instance.state === ActualLRPState.Running && !own) ||
    instance.state === ActualLRPState.Crashed
  ) {
    return dropOwnEvacuating();
  }
  return plan({ keepContainer: true });
}

/** The cell stopped the container: its evacuating record goes, and so does the instance if it is still the cell's. No state check. */
export function planEvacuateStopped(records: IndexRecords, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): EvacuationPlan {
  const evacuating = ownEvacuatingRemoval(records.evacuating, key, instanceKey);
  if (!records.instance) return plan({ evacuating, keepContainer: false });
  if (!sameInstanceKey(records.instance.actualLrpInstanceKey, instanceKey)) {
    return plan({ evacuating, keepContainer: false, error: actualLRPCannotBeRemoved() });
  }
  return plan({ evacuating, instance: remove, keepContainer: false });
}

/** The container crashed while draining: the cell's evacuating record goes and the instance takes a full crash (§3). */
export function planEvacuateCrashed(
  records: IndexRecords,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  message: string,
  nowNs: bigint,
): EvacuationPlan {
  const evacuating = ownEvacuatingRemoval(records.evacuating, key, instanceKey);
  if (!records.instance) return plan({ evacuating, keepContainer: false });
  const t = crashTransition(records.instance, key, instanceKey, message, nowNs);
  if (t.kind === "refused") return plan({ evacuating, keepContainer: false, error: t.error });
  const restart = t.kind === "write" && t.lrp.state === ActualLRPState.Unclaimed;
  return plan({ evacuating, instance: t as Change, keepContainer: false, auction: restart });
}
