import { clone, isFieldSet } from "@bufbuild/protobuf";
import { DesiredLRPSchema, DesiredLRPUpdateSchema, type DesiredLRP, type DesiredLRPUpdate } from "./gen/models/desired_lrp_pb";
import { createUnclaimedActualLRPs, retireActualLRP } from "./actual-lrps";
import { mapLimit, type BBSContext } from "./context";
import { actualLRPKey, incrementModificationTag, newModificationTag } from "./models/actual-lrp";
import {
  BbsError,
  ErrorType,
  deserializeJSONError,
  desiredLRPCannotBeUpdated,
  invalidRecord,
  resourceNotFound,
  serializeJSONError,
  unknownError,
} from "./models/errors";
import { decodeRoutes } from "./models/routes";
import { validateDesiredLRP, validationMessage } from "./models/validation";
import { canonicalStringField } from "./models/codec";
import { decodeRecord, encodeRecord, listedRecord, visitNodes, type ListedRecord } from "./records";
import { bbsErrorFromStore } from "./store-errors";
import { DesiredLRPRoot, actualLRPProcessDir, desiredLRPKey, parseKey } from "./store/keys";
import type { Labels, StoreNode } from "./store/store";

export const decodeDesiredLRP = (node: StoreNode) => decodeRecord(DesiredLRPSchema, node.value);

/**
 * Every desired LRP write labels the record with its domain (list filters) and instance count, in
 * the same item write as the record, which the BBS has validated just before. Convergence reads only
 * these labels, so a labelled record is trusted as valid without decoding it; records without them
 * (written before the instances label existed) are read and validated in full.
 */
export const DesiredLRPLabelNames = ["domain", "instances"] as const;
export const desiredLRPWriteOptions = (lrp: DesiredLRP) => ({ labels: { domain: lrp.domain, instances: String(lrp.instances) } });

/** What convergence needs of a desired LRP. */
export interface DesiredLRPSummary {
  instances: number;
  domain: string;
}

const InstancesLabel = /^(0|[1-9][0-9]{0,9})$/;

/** The summary the labels of a BBS-written record carry; undefined when they do not carry all of it. */
export function desiredLRPSummaryFromLabels(labels: Labels | undefined): DesiredLRPSummary | undefined {
  const domain = labels?.domain;
  const instances = labels?.instances;
  if (!domain || instances === undefined || !InstancesLabel.test(instances) || Number(instances) > 0x7fffffff) return undefined;
  return { instances: Number(instances), domain };
}

/** Route values are raw JSON; the original stored records as JSON and so refused values that were not. */
function invalidRouteJSON(lrp: DesiredLRP | DesiredLRPUpdate): string | undefined {
  if (lrp.routes === undefined || !isFieldSet(lrp, lrp.$typeName === "models.DesiredLRP" ? DesiredLRPSchema.field.routes : DesiredLRPUpdateSchema.field.routes)) return undefined;
  for (const [name, raw] of Object.entries(decodeRoutes(lrp.routes))) {
    try {
      JSON.parse(raw);
    } catch (error) {
      return `route ${name}: ${(error as Error).message}`;
    }
  }
  return undefined;
}

async function readDesiredLRP(ctx: BBSContext, processGuid: string): Promise<{ node: StoreNode; lrp: DesiredLRP }> {
  let node: StoreNode;
  try {
    node = await ctx.store.get(desiredLRPKey(processGuid));
  } catch (error) {
    throw bbsErrorFromStore(error);
  }
  try {
    return { node, lrp: decodeDesiredLRP(node) };
  } catch {
    throw deserializeJSONError();
  }
}

/** Listed desired LRPs, in process guid order: decoded on demand, or carried into a protobuf response as stored. */
export interface DesiredLRPList {
  readonly length: number;
  lrps(): DesiredLRP[];
  /** DesiredLRPsResponse elements, without decoding. */
  encoded(): Uint8Array[];
}

const ProcessGuidField = DesiredLRPSchema.field.processGuid.number;

export async function desiredLRPList(ctx: BBSContext, filter: { domain?: string } = {}): Promise<DesiredLRPList> {
  const listed: { guid: string; key: string; lrp: ListedRecord<DesiredLRP> }[] = [];
  await visitNodes(ctx, DesiredLRPRoot, (node) => {
    if (parseKey(node.key).kind !== "desiredLRP") return;
    if (filter.domain && node.labels?.domain !== filter.domain) return;
    let lrp: ListedRecord<DesiredLRP>;
    try {
      lrp = listedRecord(DesiredLRPSchema, node.value);
    } catch (error) {
      throw unknownError(error);
    }
    const guid = lrp.canonical ? canonicalStringField(lrp.bytes, ProcessGuidField) : lrp.message().processGuid;
    listed.push({ guid, key: node.key, lrp });
  }, { withoutLabels: !filter.domain });
  // Pages arrive in any order: equal guids (a record that does not match its key) fall back to key order.
  listed.sort((a, b) => (a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    length: listed.length,
    lrps: () => listed.map((l) => l.lrp.message()),
    encoded: () => listed.map((l) => l.lrp.bytes),
  };
}

export async function listDesiredLRPs(ctx: BBSContext, filter: { domain?: string } = {}): Promise<DesiredLRP[]> {
  return (await desiredLRPList(ctx, filter)).lrps();
}

export async function desiredLRPByProcessGuid(ctx: BBSContext, processGuid: string): Promise<DesiredLRP> {
  return (await readDesiredLRP(ctx, processGuid)).lrp;
}

async function startInstances(ctx: BBSContext, lrp: DesiredLRP, from: number, to: number): Promise<void> {
  const keys = [];
  for (let index = from; index < to; index++) keys.push(actualLRPKey(lrp.processGuid, index, lrp.domain));
  const indices = await createUnclaimedActualLRPs(ctx, keys);
  if (indices.length === 0) return;
  try {
    await ctx.auctioneer.requestLRPAuctions([{ desiredLRP: lrp, indices }]);
  } catch (error) {
    // Convergence re-auctions UNCLAIMED instances that stay unplaced, so the desire stands.
    ctx.logger.error("failed-to-request-lrp-auctions", error, { process_guid: lrp.processGuid, indices });
  }
}

/**
 * DesireLRP: the BBS owns the modification tag, the desired record is created exactly once, then one
 * UNCLAIMED instance per index is created and auctioned. Downstream failures never fail the desire.
 */
export async function desireLRP(ctx: BBSContext, desired: DesiredLRP): Promise<void> {
  const lrp = clone(DesiredLRPSchema, desired);
  lrp.modificationTag = newModificationTag();
  if (validateDesiredLRP(lrp).length > 0 || invalidRouteJSON(lrp) !== undefined) throw serializeJSONError();
  try {
    await ctx.store.create(desiredLRPKey(lrp.processGuid), encodeRecord(DesiredLRPSchema, lrp), desiredLRPWriteOptions(lrp));
  } catch (error) {
    throw bbsErrorFromStore(error);
  }
  await startInstances(ctx, lrp, 0, lrp.instances);
}

function applyUpdate(lrp: DesiredLRP, update: DesiredLRPUpdate): DesiredLRP {
  const next = clone(DesiredLRPSchema, lrp);
  next.modificationTag = incrementModificationTag(lrp.modificationTag);
  if (isFieldSet(update, DesiredLRPUpdateSchema.field.instances)) next.instances = update.instances;
  if (isFieldSet(update, DesiredLRPUpdateSchema.field.routes)) next.routes = update.routes;
  if (isFieldSet(update, DesiredLRPUpdateSchema.field.annotation)) next.annotation = update.annotation;
  return next;
}

async function retireIndices(ctx: BBSContext, processGuid: string, shouldRetire: (index: number) => boolean): Promise<void> {
  let nodes: StoreNode[];
  try {
    nodes = await ctx.store.list(actualLRPProcessDir(processGuid), { recursive: true });
  } catch (error) {
    ctx.logger.error("failed-to-list-actual-lrps-to-retire", error, { process_guid: processGuid });
    return;
  }
  const indices = nodes.flatMap((node) => {
    const parsed = parseKey(node.key);
    return parsed.kind === "actualLRP" && parsed.slot === "instance" && shouldRetire(parsed.index) ? [parsed.index] : [];
  });
  await mapLimit(indices, 20, async (index) => {
    try {
      await retireActualLRP(ctx, processGuid, index);
    } catch (error) {
      if (!(error instanceof BbsError && error.type === ErrorType.ResourceNotFound)) {
        ctx.logger.error("failed-to-retire-actual-lrp", error, { process_guid: processGuid, index });
      }
    }
  });
}

/** Only instances, routes and annotation can change; scaling creates or retires instances after the write. */
export async function updateDesiredLRP(ctx: BBSContext, processGuid: string, update: DesiredLRPUpdate): Promise<void> {
  const { node, lrp: before } = await readDesiredLRP(ctx, processGuid);
  const after = applyUpdate(before, update);
  const problems = validateDesiredLRP(after);
  if (problems.length > 0) throw invalidRecord(validationMessage(problems));
  const badRoute = invalidRouteJSON(after);
  if (badRoute !== undefined) throw new BbsError(ErrorType.InvalidJSON, badRoute);
  try {
    await ctx.store.compareAndSwap(desiredLRPKey(processGuid), encodeRecord(DesiredLRPSchema, after), node.version, desiredLRPWriteOptions(after));
  } catch (error) {
    throw bbsErrorFromStore(error, { compareFailed: desiredLRPCannotBeUpdated });
  }
  if (after.instances > before.instances) {
    await startInstances(ctx, after, before.instances, after.instances);
  } else if (after.instances < before.instances) {
    await retireIndices(ctx, processGuid, (index) => index >= after.instances && index < before.instances);
  }
}

/** Removes the desired record, then retires its instances; evacuating records are left to their TTL. */
export async function removeDesiredLRP(ctx: BBSContext, processGuid: string): Promise<void> {
  const { node, lrp } = await readDesiredLRP(ctx, processGuid);
  try {
    await ctx.store.compareAndDelete(desiredLRPKey(processGuid), node.version);
  } catch (error) {
    throw bbsErrorFromStore(error, { compareFailed: unknownError });
  }
  await retireIndices(ctx, processGuid, (index) => index < lrp.instances);
}
