// Records for the convergence tests, built as the BBS stores them, for any guid, index, state and
// age. The raw writers bypass validation on purpose, to seed the corrupt records convergence deletes.
import { create } from "@bufbuild/protobuf";
import { ActionSchema, RunActionSchema } from "../../core/gen/models/actions_pb";
import {
  ActualLRPInstanceKeySchema,
  ActualLRPNetInfoSchema,
  ActualLRPSchema,
  PortMappingSchema,
  type ActualLRP,
} from "../../core/gen/models/actual_lrp_pb";
import { CellPresenceSchema, type CellPresence } from "../../core/gen/models/cell_presence_pb";
import { DesiredLRPSchema, type DesiredLRP } from "../../core/gen/models/desired_lrp_pb";
import { ModificationTagSchema } from "../../core/gen/models/modification_tag_pb";
import { TaskDefinitionSchema, TaskSchema, Task_State, type Task } from "../../core/gen/models/task_pb";
import { actualLRPWriteOptions, encodeActualLRP } from "../../core/actual-lrps";
import { desiredLRPWriteOptions } from "../../core/desired-lrps";
import type { ReadRecord } from "../../core/actual-lrp-lifecycle";
import type { AuctioneerClient, LRPStartRequest } from "../../core/collaborators/auctioneer";
import type { RepClient } from "../../core/collaborators/rep";
import { ActualLRPState, actualLRPKey, emptyInstanceKey, emptyNetInfo } from "../../core/models/actual-lrp";
import { encodeRecord } from "../../core/records";
import { actualLRPInstanceKey, desiredLRPKey, evacuatingActualLRPKey, taskKey } from "../../core/store/keys";
import type { StoreNode, StoreOp } from "../../core/store/store";
import { encodeTask, taskWriteOptions } from "../../core/tasks";

export const SECOND_NS = 1_000_000_000n;
export const MINUTE_NS = 60n * SECOND_NS;

export function desiredLRP(processGuid: string, instances: number, domain = "cf-apps"): DesiredLRP {
  return create(DesiredLRPSchema, {
    processGuid,
    domain,
    rootFs: "docker:///cloudfoundry/grace",
    instances,
    action: create(ActionSchema, { runAction: create(RunActionSchema, { path: "/bin/sleep", args: ["100"], user: "vcap" }) }),
    modificationTag: create(ModificationTagSchema, { epoch: `epoch-${processGuid}`, index: 0 }),
  });
}

export interface ActualOptions {
  domain?: string;
  cellId?: string;
  sinceNs: bigint;
  crashCount?: number;
  placementError?: string;
}

export function actualLRP(processGuid: string, index: number, state: ActualLRPState, options: ActualOptions): ActualLRP {
  const holds = state === ActualLRPState.Claimed || state === ActualLRPState.Running;
  const cellId = options.cellId ?? "cell-a";
  return create(ActualLRPSchema, {
    actualLrpKey: actualLRPKey(processGuid, index, options.domain ?? "cf-apps"),
    actualLrpInstanceKey: holds ? create(ActualLRPInstanceKeySchema, { instanceGuid: `ig-${processGuid}-${index}`, cellId }) : emptyInstanceKey(),
    actualLrpNetInfo:
      state === ActualLRPState.Running
        ? create(ActualLRPNetInfoSchema, { address: "10.0.0.1", ports: [create(PortMappingSchema, { containerPort: 8080, hostPort: 61000 + index })] })
        : emptyNetInfo(),
    crashCount: options.crashCount ?? 0,
    crashReason: state === ActualLRPState.Crashed ? "boom" : "",
    state,
    placementError: options.placementError ?? "",
    since: options.sinceNs,
    modificationTag: create(ModificationTagSchema, { epoch: `epoch-${processGuid}-${index}`, index: 2 }),
  });
}

/** A record as a listing returns it, for the pure calculations. */
export function listed(lrp: ActualLRP, version = 7): ReadRecord {
  const key = lrp.actualLrpKey!;
  return { node: { key: actualLRPInstanceKey(key.processGuid, key.index), value: encodeActualLRP(lrp), version }, lrp };
}

export interface TaskOptions {
  createdAt: bigint;
  updatedAt?: bigint;
  firstCompletedAt?: bigint;
  cellId?: string;
  callbackUrl?: string;
  domain?: string;
}

export function task(taskGuid: string, state: Task_State, options: TaskOptions): Task {
  const finished = state === Task_State.Completed || state === Task_State.Resolving;
  return create(TaskSchema, {
    taskGuid,
    domain: options.domain ?? "tasks",
    taskDefinition: create(TaskDefinitionSchema, {
      rootFs: "docker:///busybox",
      action: create(ActionSchema, { runAction: create(RunActionSchema, { path: "/bin/true", user: "vcap" }) }),
      completionCallbackUrl: options.callbackUrl ?? "",
    }),
    createdAt: options.createdAt,
    updatedAt: options.updatedAt ?? options.createdAt,
    firstCompletedAt: options.firstCompletedAt ?? (finished ? (options.updatedAt ?? options.createdAt) : 0n),
    state,
    cellId: state === Task_State.Running ? (options.cellId ?? "cell-a") : "",
    result: "",
    failed: false,
    failureReason: "",
  });
}

export const listedTask = (t: Task, version = 7): { node: StoreNode; task: Task } => ({
  node: { key: taskKey(t.taskGuid), value: encodeTask(t), version },
  task: t,
});

export const cellPresence = (cellId: string, repAddress = "http://127.0.0.1:1"): CellPresence =>
  create(CellPresenceSchema, { cellId, repAddress, zone: "z1" });

// Store ops that write records exactly as the BBS would, without its validation.
export const desiredOp = (lrp: DesiredLRP): StoreOp => ({
  op: "create",
  key: desiredLRPKey(lrp.processGuid),
  value: encodeRecord(DesiredLRPSchema, lrp),
  options: desiredLRPWriteOptions(lrp),
});
/** A desired LRP as a BBS wrote it before records were labelled with their instance count. */
export const unlabelledDesiredOp = (lrp: DesiredLRP): StoreOp => ({
  op: "create",
  key: desiredLRPKey(lrp.processGuid),
  value: encodeRecord(DesiredLRPSchema, lrp),
  options: { labels: { domain: lrp.domain } },
});
export const instanceOp = (lrp: ActualLRP): StoreOp => ({
  op: "create",
  key: actualLRPInstanceKey(lrp.actualLrpKey!.processGuid, lrp.actualLrpKey!.index),
  value: encodeActualLRP(lrp),
  options: actualLRPWriteOptions(lrp),
});
export const evacuatingOp = (lrp: ActualLRP): StoreOp => ({
  op: "create",
  key: evacuatingActualLRPKey(lrp.actualLrpKey!.processGuid, lrp.actualLrpKey!.index),
  value: encodeActualLRP(lrp),
  options: actualLRPWriteOptions(lrp),
});
export const taskOp = (t: Task): StoreOp => ({ op: "create", key: taskKey(t.taskGuid), value: encodeTask(t), options: taskWriteOptions(t) });
export const rawOp = (key: string, value: Uint8Array | string): StoreOp => ({
  op: "create",
  key,
  value: typeof value === "string" ? new TextEncoder().encode(value) : value,
});

/** Writes ops 100 to a transaction, `parallel` transactions at a time: loads thousands of records in seconds. */
export async function load(store: { transact(ops: readonly StoreOp[]): Promise<void> }, ops: readonly StoreOp[], parallel = 8): Promise<void> {
  const batches: StoreOp[][] = [];
  for (let i = 0; i < ops.length; i += 100) batches.push(ops.slice(i, i + 100));
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, batches.length) }, async () => {
      while (next < batches.length) await store.transact(batches[next++]!);
    }),
  );
}

export class RecordingAuctioneer implements AuctioneerClient {
  lrpRequests: LRPStartRequest[][] = [];
  taskRequests: Task[][] = [];
  async requestLRPAuctions(starts: LRPStartRequest[]) {
    this.lrpRequests.push(starts);
  }
  async requestTaskAuctions(tasks: Task[]) {
    this.taskRequests.push(tasks);
  }
  /** "guid/index" of every index auctioned, over all requests. */
  get auctionedIndices(): string[] {
    return this.lrpRequests.flatMap((starts) => starts.flatMap((s) => s.indices.map((i) => `${s.desiredLRP.processGuid}/${i}`)));
  }
}

export class RecordingReps implements RepClient {
  stops: { repAddress: string; processGuid: string; instanceGuid: string }[] = [];
  async stopLRPInstance(repAddress: string, processGuid: string, instanceGuid: string) {
    this.stops.push({ repAddress, processGuid, instanceGuid });
  }
  async cancelTask() {}
}
