import { clone, create } from "@bufbuild/protobuf";
import {
  ActualLRPInstanceKeySchema,
  ActualLRPKeySchema,
  ActualLRPNetInfoSchema,
  ActualLRPSchema,
  type ActualLRP,
  type ActualLRPGroup,
  type ActualLRPInstanceKey,
  type ActualLRPKey,
  type ActualLRPNetInfo,
} from "../gen/models/actual_lrp_pb";
import { ModificationTagSchema, type ModificationTag } from "../gen/models/modification_tag_pb";

export const ActualLRPState = {
  Unclaimed: "UNCLAIMED",
  Claimed: "CLAIMED",
  Running: "RUNNING",
  Crashed: "CRASHED",
} as const;
export type ActualLRPState = (typeof ActualLRPState)[keyof typeof ActualLRPState];

export const newModificationTag = (): ModificationTag =>
  create(ModificationTagSchema, { epoch: crypto.randomUUID(), index: 0 });

export const incrementModificationTag = (tag: ModificationTag | undefined): ModificationTag =>
  create(ModificationTagSchema, { epoch: tag?.epoch ?? "", index: (tag?.index ?? 0) + 1 });

export const actualLRPKey = (processGuid: string, index: number, domain: string): ActualLRPKey =>
  create(ActualLRPKeySchema, { processGuid, index, domain });

export const emptyInstanceKey = (): ActualLRPInstanceKey => create(ActualLRPInstanceKeySchema, { instanceGuid: "", cellId: "" });
export const emptyNetInfo = (): ActualLRPNetInfo => create(ActualLRPNetInfoSchema, { address: "", ports: [] });

export function newUnclaimedActualLRP(key: ActualLRPKey, sinceNs: bigint): ActualLRP {
  return create(ActualLRPSchema, {
    actualLrpKey: create(ActualLRPKeySchema, key),
    actualLrpInstanceKey: emptyInstanceKey(),
    actualLrpNetInfo: emptyNetInfo(),
    crashCount: 0,
    state: ActualLRPState.Unclaimed,
    since: sinceNs,
    modificationTag: newModificationTag(),
  });
}

export const sameInstanceKey = (a: ActualLRPInstanceKey | undefined, b: ActualLRPInstanceKey | undefined) =>
  (a?.instanceGuid ?? "") === (b?.instanceGuid ?? "") && (a?.cellId ?? "") === (b?.cellId ?? "");

export const sameActualLRPKey = (a: ActualLRPKey | undefined, b: ActualLRPKey | undefined) =>
  (a?.processGuid ?? "") === (b?.processGuid ?? "") && (a?.index ?? 0) === (b?.index ?? 0) && (a?.domain ?? "") === (b?.domain ?? "");

export function sameNetInfo(a: ActualLRPNetInfo | undefined, b: ActualLRPNetInfo | undefined): boolean {
  if ((a?.address ?? "") !== (b?.address ?? "")) return false;
  const pa = a?.ports ?? [];
  const pb = b?.ports ?? [];
  return pa.length === pb.length && pa.every((p, i) => p.containerPort === pb[i]?.containerPort && p.hostPort === pb[i]?.hostPort);
}

/** Which half of a group a client should act on (the original's Resolve). */
export function resolveActualLRPGroup(group: ActualLRPGroup): { actualLRP: ActualLRP; evacuating: boolean } | undefined {
  const { instance, evacuating } = group;
  if (instance && evacuating) {
    const settled = instance.state === ActualLRPState.Running || instance.state === ActualLRPState.Crashed;
    return settled ? { actualLRP: instance, evacuating: false } : { actualLRP: evacuating, evacuating: true };
  }
  if (instance) return { actualLRP: instance, evacuating: false };
  if (evacuating) return { actualLRP: evacuating, evacuating: true };
  return undefined;
}

/** Labels kept beside the record so stream filters and list filters need not decode it. */
export const actualLRPLabels = (lrp: ActualLRP) => ({
  domain: lrp.actualLrpKey?.domain ?? "",
  cell_id: lrp.actualLrpInstanceKey?.cellId ?? "",
});

/** A record born RUNNING: StartActualLRP on a missing key, and (with tag index 1) every evacuating record. */
export function newRunningActualLRP(key: ActualLRPKey, instanceKey: ActualLRPInstanceKey, netInfo: ActualLRPNetInfo, sinceNs: bigint): ActualLRP {
  return create(ActualLRPSchema, {
    actualLrpKey: clone(ActualLRPKeySchema, key),
    actualLrpInstanceKey: clone(ActualLRPInstanceKeySchema, instanceKey),
    actualLrpNetInfo: clone(ActualLRPNetInfoSchema, netInfo),
    crashCount: 0,
    state: ActualLRPState.Running,
    since: sinceNs,
    modificationTag: newModificationTag(),
  });
}
