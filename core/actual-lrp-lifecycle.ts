// The rep- and auctioneer-driven lifecycle of an /instance record (semantics §2.2, §3): each call is
// one strongly consistent read and one write conditioned on that read (CAS, CAD, or create when the
// read found nothing). The rules themselves are pure, in models/actual-lrp-transitions.ts; here a lost
// race becomes the route's ActualLRPCannotBe… error (§1.4).
import type { ActualLRP, ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo } from "./gen/models/actual_lrp_pb";
import { actualLRPWriteOptions, decodeActualLRP, encodeActualLRP } from "./actual-lrps";
import type { BBSContext } from "./context";
import { desiredLRPByProcessGuid } from "./desired-lrps";
import { ActualLRPState } from "./models/actual-lrp";
import {
  claimTransition,
  crashTransition,
  failTransition,
  removeTransition,
  startTransition,
  unclaimTransition,
  type Transition,
} from "./models/actual-lrp-transitions";
import {
  BbsError,
  ErrorType,
  actualLRPCannotBeClaimed,
  actualLRPCannotBeCrashed,
  actualLRPCannotBeFailed,
  actualLRPCannotBeRemoved,
  actualLRPCannotBeStarted,
  actualLRPCannotBeUnclaimed,
  deserializeJSONError,
  unknownError,
} from "./models/errors";
import { bbsErrorFromStore } from "./store-errors";
import { CompareFailedError, KeyExistsError, KeyNotFoundError } from "./store/errors";
import { actualLRPInstanceKey } from "./store/keys";
import type { StoreNode } from "./store/store";

/** A record as read: the node carries the version the following write is conditioned on. */
export interface ReadRecord {
  node: StoreNode;
  lrp: ActualLRP;
}

/** How often Start judges again after losing its write (see startActualLRP). */
export const START_ATTEMPTS = 5;

function decoded(node: StoreNode): ReadRecord {
  try {
    return { node, lrp: decodeActualLRP(node) };
  } catch {
    throw deserializeJSONError();
  }
}

/** A strongly consistent read of one actual LRP node; undefined when it is missing (or expired). */
export async function readActualLRP(ctx: BBSContext, storeKey: string): Promise<ReadRecord | undefined> {
  let node: StoreNode;
  try {
    node = await ctx.store.get(storeKey);
  } catch (error) {
    if (error instanceof KeyNotFoundError) return undefined;
    throw bbsErrorFromStore(error);
  }
  return decoded(node);
}

const readInstance = (ctx: BBSContext, processGuid: string, index: number) => readActualLRP(ctx, actualLRPInstanceKey(processGuid, index));

/** Every store failure of the conditional write (compare failed, deleted, taken) is the operation's lost race (§1.4). */
const lostRace = (error: unknown, lost: () => BbsError) => bbsErrorFromStore(error, { notFound: lost, compareFailed: lost, exists: lost });

/** Stores a transition of a record just read, conditioned on the version read. */
async function store(ctx: BBSContext, current: ReadRecord | undefined, t: Transition, lost: () => BbsError): Promise<ActualLRP | undefined> {
  if (t.kind === "refused") throw t.error;
  if (t.kind === "unchanged") return undefined;
  if (!current) throw unknownError(new Error(`${t.kind} of a record that was not read`));
  try {
    if (t.kind === "delete") await ctx.store.compareAndDelete(current.node.key, current.node.version);
    else await ctx.store.compareAndSwap(current.node.key, encodeActualLRP(t.lrp), current.node.version, actualLRPWriteOptions(t.lrp));
  } catch (error) {
    throw lostRace(error, lost);
  }
  return t.kind === "write" ? t.lrp : undefined;
}

export async function claimActualLRP(ctx: BBSContext, processGuid: string, index: number, instanceKey: ActualLRPInstanceKey): Promise<void> {
  const current = await readInstance(ctx, processGuid, index);
  await store(ctx, current, claimTransition(current?.lrp, instanceKey), actualLRPCannotBeClaimed);
}

/**
 * Start. It begins with the write, not a read: a conditional create of the RUNNING record, which on a
 * missing record is the whole operation (one DynamoDB call). When the record exists, the failed create
 * returns it (ReturnValuesOnConditionCheckFailure, no read billed) and Start judges against it, exactly
 * as it would have after a strongly consistent read: CAS, nothing to do, or refused. So a start costs
 * the same round trips as read-then-write when the record exists, and one fewer when it does not; the
 * price is that the failed create is billed as a write (1 WRU) where the read was 1 RRU.
 * Deliberate difference from the original, which answered CannotBeStarted to any lost write: the
 * failed write reports the record that won, and Start judges again against it (no extra read). So a
 * start that lost to a claim still takes the instance over — "Start beats Claim" holds under any
 * interleaving — a duplicate start is idempotent, and a start that lost to another cell's start is
 * refused exactly as before.
 */
export async function startActualLRP(
  ctx: BBSContext,
  key: ActualLRPKey,
  instanceKey: ActualLRPInstanceKey,
  netInfo: ActualLRPNetInfo,
): Promise<void> {
  const storeKey = actualLRPInstanceKey(key.processGuid, key.index);
  // Judged first as if missing: the create that follows either is the start, or reports the record.
  let current: ReadRecord | undefined;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const t = startTransition(current?.lrp, key, instanceKey, netInfo, ctx.clock.nowNs());
    if (t.kind === "refused") throw t.error;
    if (t.kind !== "write") return;
    try {
      const value = encodeActualLRP(t.lrp);
      if (current) await ctx.store.compareAndSwap(storeKey, value, current.node.version, actualLRPWriteOptions(t.lrp));
      else await ctx.store.create(storeKey, value, actualLRPWriteOptions(t.lrp));
      return;
    } catch (error) {
      if (error instanceof CompareFailedError || error instanceof KeyExistsError) current = decoded(error.current);
      else if (error instanceof KeyNotFoundError) current = undefined;
      else throw unknownError(error);
    }
  }
  throw actualLRPCannotBeStarted();
}

/** Crash (§3): the first crashes are stored UNCLAIMED and auctioned at once, later ones CRASHED for convergence. */
export async function crashActualLRP(ctx: BBSContext, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, errorMessage: string): Promise<void> {
  const current = await readInstance(ctx, key.processGuid, key.index);
  const stored = await store(ctx, current, crashTransition(current?.lrp, key, instanceKey, errorMessage, ctx.clock.nowNs()), actualLRPCannotBeCrashed);
  if (stored?.state === ActualLRPState.Unclaimed) await requestLRPAuctionForIndex(ctx, key);
}

/** The key only picks the path: the original compared neither domain nor anything else. */
export async function failActualLRP(ctx: BBSContext, key: ActualLRPKey, errorMessage: string): Promise<void> {
  const current = await readInstance(ctx, key.processGuid, key.index);
  await store(ctx, current, failTransition(current?.lrp, errorMessage, ctx.clock.nowNs()), actualLRPCannotBeFailed);
}

export async function removeActualLRP(ctx: BBSContext, processGuid: string, index: number): Promise<void> {
  const current = await readInstance(ctx, processGuid, index);
  await store(ctx, current, removeTransition(current?.lrp), actualLRPCannotBeRemoved);
}

/**
 * The shared unclaim (evacuation, convergence): `current` is the caller's earlier read, so a record
 * changed since then is left alone (CannotBeUnclaimed). Returns whether anything was written.
 */
export async function unclaimActualLRP(ctx: BBSContext, current: ReadRecord, key: ActualLRPKey, instanceKey: ActualLRPInstanceKey): Promise<boolean> {
  const written = await store(ctx, current, unclaimTransition(current.lrp, key, instanceKey, ctx.clock.nowNs()), actualLRPCannotBeUnclaimed);
  return written !== undefined;
}

/**
 * Asks the auctioneer to place this one index, after the instance was stored UNCLAIMED. Never throws:
 * the stored state stands whatever happens here, and convergence re-auctions an instance left
 * UNCLAIMED for 30 s, so the caller's operation has succeeded (the original answered UnknownError,
 * which told a rep its crash or evacuation had failed when it had not). With no desired LRP the
 * instance has nothing to run: it is deleted and no auction is sent (the original went on to send
 * one with a null desired LRP).
 */
export async function requestLRPAuctionForIndex(ctx: BBSContext, key: ActualLRPKey): Promise<void> {
  const log = { process_guid: key.processGuid, index: key.index };
  let desiredLRP;
  try {
    desiredLRP = await desiredLRPByProcessGuid(ctx, key.processGuid);
  } catch (error) {
    if (!(error instanceof BbsError && error.type === ErrorType.ResourceNotFound)) {
      ctx.logger.error("failed-to-fetch-desired-lrp-for-auction", error, log);
      return;
    }
    try {
      // Unconditional, as the original: whatever is there now belongs to an LRP nobody desires.
      await ctx.store.delete(actualLRPInstanceKey(key.processGuid, key.index));
    } catch (deleteError) {
      if (!(deleteError instanceof KeyNotFoundError)) ctx.logger.error("failed-to-delete-undesired-actual-lrp", deleteError, log);
    }
    return;
  }
  try {
    await ctx.auctioneer.requestLRPAuctions([{ desiredLRP, indices: [key.index] }]);
  } catch (error) {
    ctx.logger.error("failed-to-request-lrp-auction", error, log);
  }
}
