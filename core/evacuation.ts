// Evacuation (semantics §2.3): a draining cell hands its instances back. Each call reads both halves
// of the index, asks the pure planner (models/actual-lrp-transitions.ts) what to store and answer,
// and stores it. When the evacuating node and the instance node both change, they change in one
// store.transact: the original wrote them one after the other, so a failure in between could leave an
// evacuating record beside an instance that was never unclaimed (or the reverse). Here that cannot
// happen; a lost race changes neither.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo } from "./gen/models/actual_lrp_pb";
import { ErrorSchema } from "./gen/models/error_pb";
import type { EvacuationResponseSchema } from "./gen/models/evacuation_pb";
import { readActualLRP, requestLRPAuctionForIndex, type ReadRecord } from "./actual-lrp-lifecycle";
import { actualLRPWriteOptions, encodeActualLRP } from "./actual-lrps";
import type { BBSContext } from "./context";
import {
  planEvacuateClaimed,
  planEvacuateCrashed,
  planEvacuateRunning,
  planEvacuateStopped,
  removeEvacuatingTransition,
  type Change,
  type EvacuationPlan,
  type IndexRecords,
} from "./models/actual-lrp-transitions";
import {
  BbsError,
  actualLRPCannotBeCrashed,
  actualLRPCannotBeRemoved,
  actualLRPCannotBeStarted,
  actualLRPCannotBeUnclaimed,
  resourceConflict,
  unknownError,
} from "./models/errors";
import { bbsErrorFromStore } from "./store-errors";
import { KeyExistsError, isStoreError } from "./store/errors";
import { actualLRPInstanceKey, evacuatingActualLRPKey } from "./store/keys";
import type { Store, StoreOp } from "./store/store";

/** keep_container and the error travel together: evacuate_running answers keep=true with an error. */
export interface EvacuationResult {
  keepContainer: boolean;
  error?: BbsError;
}

export function evacuationResponse(result: EvacuationResult): MessageInitShape<typeof EvacuationResponseSchema> {
  const { keepContainer, error } = result;
  return error ? { keepContainer, error: create(ErrorSchema, { type: error.type, message: error.message }) } : { keepContainer };
}

interface Flow {
  name: string;
  /** keep_container when the call fails before it has a plan (a read that failed). */
  keepOnReadError: boolean;
  /** Claimed, stopped and crashed ignored every failure of the own-evacuating removal, reads included. */
  evacuatingReadBestEffort: boolean;
  /** What the instance half's lost race answers. */
  instanceLostRace: () => BbsError;
  /** TTL of an evacuating record written by this call. */
  evacuatingTTLSeconds?: number;
}

interface Reads {
  instancePath: string;
  evacuatingPath: string;
  instance?: ReadRecord;
  evacuating?: ReadRecord;
}

function opFor(change: Change, read: ReadRecord | undefined, key: string, ttlSeconds?: number): StoreOp | undefined {
  if (change.kind === "unchanged") return undefined;
  if (change.kind === "delete") return read && { op: "compareAndDelete", key, prevVersion: read.node.version };
  const value = encodeActualLRP(change.lrp);
  const options = actualLRPWriteOptions(change.lrp, ttlSeconds);
  return read ? { op: "compareAndSwap", key, value, prevVersion: read.node.version, options } : { op: "create", key, value, options };
}

async function runOp(store: Store, op: StoreOp): Promise<void> {
  switch (op.op) {
    case "create":
      await store.create(op.key, op.value, op.options);
      return;
    case "set":
      await store.set(op.key, op.value, op.options);
      return;
    case "compareAndSwap":
      await store.compareAndSwap(op.key, op.value, op.prevVersion, op.options);
      return;
    case "compareAndDelete":
      await store.compareAndDelete(op.key, op.prevVersion);
      return;
    case "delete":
      await store.delete(op.key);
  }
}

/** Stores the plan's changes; returns the error of the half that failed, if any. */
async function storePlan(ctx: BBSContext, plan: EvacuationPlan, reads: Reads, flow: Flow): Promise<BbsError | undefined> {
  const evacuatingOp = opFor(plan.evacuating, reads.evacuating, reads.evacuatingPath, flow.evacuatingTTLSeconds);
  const instanceOp = opFor(plan.instance, reads.instance, reads.instancePath);
  const removalOnly = plan.evacuating.kind === "delete";
  const failedOnEvacuating = (error: unknown) => isStoreError(error) && error.key === reads.evacuatingPath;
  const failure = (error: unknown): BbsError => {
    if (!isStoreError(error)) return unknownError(error);
    if (!failedOnEvacuating(error)) return flow.instanceLostRace();
    // The original's mapping: a Create collision is CannotBeStarted, a lost CAS ResourceConflict.
    return error instanceof KeyExistsError ? actualLRPCannotBeStarted() : resourceConflict();
  };
  const ignoreRemovalFailure = (error: unknown) =>
    ctx.logger.error("failed-to-remove-evacuating-actual-lrp", error, { flow: flow.name, key: reads.evacuatingPath });

  if (evacuatingOp && instanceOp) {
    try {
      await ctx.store.transact([evacuatingOp, instanceOp]);
      return undefined;
    } catch (error) {
      // The removal alone failed (the record expired or changed meanwhile): the original went on
      // regardless, so the instance change is stored by itself.
      if (!(removalOnly && failedOnEvacuating(error))) return failure(error);
      ignoreRemovalFailure(error);
    }
  } else if (evacuatingOp) {
    try {
      await runOp(ctx.store, evacuatingOp);
    } catch (error) {
      if (!removalOnly) return failure(error);
      ignoreRemovalFailure(error);
    }
    return undefined;
  }
  if (!instanceOp) return undefined;
  try {
    await runOp(ctx.store, instanceOp);
    return undefined;
  } catch (error) {
    return failure(error);
  }
}

async function evacuate(ctx: BBSContext, key: ActualLRPKey, flow: Flow, planner: (records: IndexRecords, nowNs: bigint) => EvacuationPlan): Promise<EvacuationResult> {
  const reads: Reads = {
    instancePath: actualLRPInstanceKey(key.processGuid, key.index),
    evacuatingPath: evacuatingActualLRPKey(key.processGuid, key.index),
  };
  let plan: EvacuationPlan;
  try {
    const [instance, evacuating] = await Promise.all([
      readActualLRP(ctx, reads.instancePath),
      readActualLRP(ctx, reads.evacuatingPath).catch((error: unknown) => {
        if (!flow.evacuatingReadBestEffort) throw error;
        ctx.logger.error("failed-to-read-evacuating-actual-lrp", error, { flow: flow.name, key: reads.evacuatingPath });
        return undefined;
      }),
    ]);
    reads.instance = instance;
    reads.evacuating = evacuating;
    plan = planner({ instance: instance?.lrp, evacuating: evacuating?.lrp }, ctx.clock.nowNs());
  } catch (error) {
    return { keepContainer: flow.keepOnReadError, error: error instanceof BbsError ? error : unknownError(error) };
  }
  const failed = await storePlan(ctx, plan, reads, flow);
  if (failed) return { keepContainer: plan.keepContainer, error: failed };
  if (plan.auction) await requestLRPAuctionForIndex(ctx, key);
  return { keepContainer: plan.keepContainer, error: plan.error };
}

export function evacuateClaimedActualLRP(ctx: BBSContext, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<EvacuationResult> {
  const flow: Flow = { name: "evacuate-claimed", keepOnReadError: false, evacuatingReadBestEffort: true, instanceLostRace: actualLRPCannotBeUnclaimed };
  return evacuate(ctx, key, flow, (records, now) => planEvacuateClaimed(records, key, instanceKey, now));
}

/** `ttlSeconds` (the request's uint64) becomes the TTL of the evacuating record whenever this call writes it; 0 = never expires. */
export function evacuateRunningActualLRP(
  ctx: BBSContext,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  netInfo: ActualLRPNetInfo,
  ttlSeconds: bigint,
): Promise<EvacuationResult> {
  const flow: Flow = {
    name: "evacuate-running",
    keepOnReadError: true,
    evacuatingReadBestEffort: false,
    instanceLostRace: actualLRPCannotBeUnclaimed,
    evacuatingTTLSeconds: Number(ttlSeconds),
  };
  return evacuate(ctx, key, flow, (records, now) => planEvacuateRunning(records, key, instanceKey, netInfo, now));
}

export function evacuateStoppedActualLRP(ctx: BBSContext, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<EvacuationResult> {
  const flow: Flow = { name: "evacuate-stopped", keepOnReadError: false, evacuatingReadBestEffort: true, instanceLostRace: actualLRPCannotBeRemoved };
  return evacuate(ctx, key, flow, (records) => planEvacuateStopped(records, key, instanceKey));
}

export function evacuateCrashedActualLRP(
  ctx: BBSContext,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  errorMessage: string,
): Promise<EvacuationResult> {
  const flow: Flow = { name: "evacuate-crashed", keepOnReadError: false, evacuatingReadBestEffort: true, instanceLostRace: actualLRPCannotBeCrashed };
  return evacuate(ctx, key, flow, (records, now) => planEvacuateCrashed(records, key, instanceKey, errorMessage, now));
}

/** The RemoveEvacuatingActualLRP route: only the owning cell's record, and a missing one is success. */
export async function removeEvacuatingActualLRP(ctx: BBSContext, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<void> {
  const current = await readActualLRP(ctx, evacuatingActualLRPKey(key.processGuid, key.index));
  const t = removeEvacuatingTransition(current?.lrp, key, instanceKey);
  if (t.kind === "refused") throw t.error;
  if (t.kind !== "delete" || !current) return;
  try {
    await ctx.store.compareAndDelete(current.node.key, current.node.version);
  } catch (error) {
    throw bbsErrorFromStore(error, { notFound: actualLRPCannotBeRemoved, compareFailed: actualLRPCannotBeRemoved });
  }
}
