// Reading actual LRP groups, creating UNCLAIMED instances, and retiring them. The lifecycle
// transitions driven by reps live in actual-lrp-lifecycle.ts and evacuation.ts.
import { create } from "@bufbuild/protobuf";
import { ActualLRPGroupSchema, ActualLRPSchema, type ActualLRP, type ActualLRPGroup, type ActualLRPKey } from "./gen/models/actual_lrp_pb";
import { cellById } from "./cells";
import { mapLimit, type BBSContext } from "./context";
import { ActualLRPState, actualLRPLabels, newUnclaimedActualLRP } from "./models/actual-lrp";
import {
  BbsError,
  ErrorType,
  actualLRPCannotBeRemoved,
  actualLRPCannotBeStopped,
  deserializeJSONError,
  resourceNotFound,
  unknownError,
} from "./models/errors";
import type { EncodedElement } from "./models/codec";
import { decodeRecord, encodeRecord, listedRecord, visitNodes, type ListedRecord } from "./records";
import { bbsErrorFromStore } from "./store-errors";
import { KeyExistsError } from "./store/errors";
import { ActualLRPRoot, actualLRPIndexDir, actualLRPInstanceKey, actualLRPProcessDir, parseKey } from "./store/keys";
import type { StoreNode } from "./store/store";

export interface ActualLRPFilter {
  domain?: string;
  cellId?: string;
}

export const RETIRE_ATTEMPTS = 5;

export function decodeActualLRP(node: StoreNode): ActualLRP {
  return decodeRecord(ActualLRPSchema, node.value);
}

export const encodeActualLRP = (lrp: ActualLRP) => encodeRecord(ActualLRPSchema, lrp);

export const actualLRPWriteOptions = (lrp: ActualLRP, ttlSeconds?: number) => ({ labels: actualLRPLabels(lrp), ttlSeconds });

/** The labels carry domain and cell id, so filters skip records without decoding them. */
function matchesFilter(node: StoreNode, filter: ActualLRPFilter): boolean {
  if (filter.domain && node.labels?.domain !== filter.domain) return false;
  if (filter.cellId && node.labels?.cell_id !== filter.cellId) return false;
  return true;
}

/** Listed actual LRP groups: decoded on demand, or carried into a protobuf response as stored. */
export interface ActualLRPGroupList {
  readonly length: number;
  /** The groups, decoded. */
  groups(): ActualLRPGroup[];
  /** The groups as ActualLRPGroupsResponse elements (instance = field 1, evacuating = field 2), without decoding. */
  encoded(): EncodedElement[];
}

interface ListedGroup {
  instance?: ListedRecord<ActualLRP>;
  evacuating?: ListedRecord<ActualLRP>;
}

/** Folds instance and evacuating nodes into groups, ordered by process guid then index. */
async function listGroups(ctx: BBSContext, prefix: string, filter: ActualLRPFilter, onBadRecord: (error: unknown) => BbsError): Promise<ActualLRPGroupList> {
  const groups = new Map<string, ListedGroup>();
  const order: { guid: string; index: number; id: string }[] = [];
  await visitNodes(ctx, prefix, (node) => {
    const parsed = parseKey(node.key);
    if (parsed.kind !== "actualLRP" || !matchesFilter(node, filter)) return;
    let lrp: ListedRecord<ActualLRP>;
    try {
      lrp = listedRecord(ActualLRPSchema, node.value);
    } catch (error) {
      throw onBadRecord(error);
    }
    const id = `${parsed.processGuid}/${parsed.index}`;
    let group = groups.get(id);
    if (!group) {
      group = {};
      groups.set(id, group);
      order.push({ guid: parsed.processGuid, index: parsed.index, id });
    }
    if (parsed.slot === "instance") group.instance = lrp;
    else group.evacuating = lrp;
  }, { withoutLabels: !filter.domain && !filter.cellId });
  order.sort((a, b) => (a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : a.index - b.index));
  const listed = order.map((o) => groups.get(o.id)!);
  return {
    length: listed.length,
    groups: () =>
      listed.map((g) => {
        const group = create(ActualLRPGroupSchema, {});
        if (g.instance) group.instance = g.instance.message();
        if (g.evacuating) group.evacuating = g.evacuating.message();
        return group;
      }),
    encoded: () =>
      listed.map((g) => ({
        fields: [...(g.instance ? [[1, g.instance.bytes] as const] : []), ...(g.evacuating ? [[2, g.evacuating.bytes] as const] : [])],
      })),
  };
}

/** Every actual LRP group (the filter reads labels, not records); an undecodable record fails the list. */
export async function actualLRPGroupList(ctx: BBSContext, filter: ActualLRPFilter = {}): Promise<ActualLRPGroupList> {
  return listGroups(ctx, ActualLRPRoot, filter, (error) => unknownError(error));
}

export async function actualLRPGroupListByProcessGuid(ctx: BBSContext, processGuid: string): Promise<ActualLRPGroupList> {
  return listGroups(ctx, actualLRPProcessDir(processGuid), {}, () => deserializeJSONError());
}

export async function listActualLRPGroups(ctx: BBSContext, filter: ActualLRPFilter = {}): Promise<ActualLRPGroup[]> {
  return (await actualLRPGroupList(ctx, filter)).groups();
}

export async function listActualLRPGroupsByProcessGuid(ctx: BBSContext, processGuid: string): Promise<ActualLRPGroup[]> {
  return (await actualLRPGroupListByProcessGuid(ctx, processGuid)).groups();
}

export async function actualLRPGroupByProcessGuidAndIndex(ctx: BBSContext, processGuid: string, index: number): Promise<ActualLRPGroup> {
  const [group] = (await listGroups(ctx, actualLRPIndexDir(processGuid, index), {}, () => deserializeJSONError())).groups();
  if (!group) throw resourceNotFound();
  return group;
}

/** Creates an UNCLAIMED instance; false when one already exists (a lost race with convergence or desire). */
export async function createUnclaimedActualLRP(ctx: BBSContext, key: ActualLRPKey): Promise<boolean> {
  const lrp = newUnclaimedActualLRP(key, ctx.clock.nowNs());
  try {
    await ctx.store.create(actualLRPInstanceKey(key.processGuid, key.index), encodeActualLRP(lrp), actualLRPWriteOptions(lrp));
    return true;
  } catch (error) {
    if (!(error instanceof KeyExistsError)) {
      ctx.logger.error("failed-to-create-actual-lrp", error, { process_guid: key.processGuid, index: key.index });
    }
    return false;
  }
}

/** Creates UNCLAIMED instances for the keys (at most 100 writes in flight) and returns the indices created. */
export async function createUnclaimedActualLRPs(ctx: BBSContext, keys: readonly ActualLRPKey[]): Promise<number[]> {
  const created = await mapLimit(keys, 100, (key) => createUnclaimedActualLRP(ctx, key));
  return keys.filter((_, i) => created[i]).map((k) => k.index);
}

/** What a caller that has just read the instance and the cells (convergence) already knows. */
export interface RetireHint {
  record: { node: StoreNode; lrp: ActualLRP };
  /** Rep address by present cell id. */
  repAddresses: ReadonlyMap<string, string>;
}

/**
 * Retire: UNCLAIMED or CRASHED instances are deleted; CLAIMED or RUNNING ones are stopped by their
 * cell's rep (which then removes the record), or deleted when the cell is gone. Each attempt
 * re-reads, so churn from claims and crashes meanwhile is survived; the first one starts from the
 * hint when there is one, since its write is conditional on the version read anyway.
 */
export async function retireActualLRP(ctx: BBSContext, processGuid: string, index: number, hint?: RetireHint): Promise<void> {
  const key = actualLRPInstanceKey(processGuid, index);
  let lastError: BbsError = unknownError();
  for (let attempt = 0; attempt < RETIRE_ATTEMPTS; attempt++) {
    const hinted = attempt === 0 ? hint : undefined;
    let node: StoreNode;
    let lrp: ActualLRP;
    if (hinted) {
      ({ node, lrp } = hinted.record);
    } else {
      try {
        node = await ctx.store.get(key);
      } catch (error) {
        throw bbsErrorFromStore(error);
      }
      try {
        lrp = decodeActualLRP(node);
      } catch {
        throw deserializeJSONError();
      }
    }
    const removeIt = async () => {
      await ctx.store.compareAndDelete(key, node.version);
    };
    try {
      if (lrp.state === ActualLRPState.Unclaimed || lrp.state === ActualLRPState.Crashed) {
        await removeIt().catch((error) => {
          throw bbsErrorFromStore(error, { compareFailed: actualLRPCannotBeRemoved, notFound: actualLRPCannotBeRemoved });
        });
        return;
      }
      const cellId = lrp.actualLrpInstanceKey?.cellId ?? "";
      let repAddress: string | undefined;
      if (hinted) {
        repAddress = hinted.repAddresses.get(cellId);
      } else {
        try {
          repAddress = (await cellById(ctx, cellId)).repAddress;
        } catch (error) {
          if (!(error instanceof BbsError && error.type === ErrorType.ResourceNotFound)) throw error;
        }
      }
      if (repAddress === undefined) {
        await removeIt().catch((error) => {
          throw bbsErrorFromStore(error, { compareFailed: actualLRPCannotBeRemoved, notFound: actualLRPCannotBeRemoved });
        });
        return;
      }
      try {
        await ctx.reps.stopLRPInstance(repAddress, processGuid, lrp.actualLrpInstanceKey?.instanceGuid ?? "");
        return;
      } catch (error) {
        ctx.logger.error("failed-to-stop-actual-lrp", error, { process_guid: processGuid, index, cell_id: cellId });
        throw actualLRPCannotBeStopped(error);
      }
    } catch (error) {
      lastError = error instanceof BbsError ? error : unknownError(error);
    }
  }
  throw lastError;
}
