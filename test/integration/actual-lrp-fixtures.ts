// Shared by the actual-LRP integration tests: a BBS context over a fresh DynamoDB Local table with a
// manual clock, collaborators that record what they were asked, raw record writers that bypass
// validation on purpose (as the original's etcd_helpers did), and a store that lets a test slip a
// concurrent write in between an operation's read and its write.
import { create } from "@bufbuild/protobuf";
import { ActionSchema, RunActionSchema } from "../../core/gen/models/actions_pb";
import {
  ActualLRPInstanceKeySchema,
  ActualLRPNetInfoSchema,
  ActualLRPSchema,
  PortMappingSchema,
  type ActualLRP,
  type ActualLRPInstanceKey,
  type ActualLRPNetInfo,
} from "../../core/gen/models/actual_lrp_pb";
import { DesiredLRPSchema } from "../../core/gen/models/desired_lrp_pb";
import { ModificationTagSchema } from "../../core/gen/models/modification_tag_pb";
import { actualLRPWriteOptions, decodeActualLRP, encodeActualLRP } from "../../core/actual-lrps";
import { ManualClock } from "../../core/clock";
import type { AuctioneerClient, LRPStartRequest } from "../../core/collaborators/auctioneer";
import type { RepClient } from "../../core/collaborators/rep";
import type { BBSContext } from "../../core/context";
import { silentLogger } from "../../core/logger";
import { ActualLRPState, actualLRPKey, emptyInstanceKey } from "../../core/models/actual-lrp";
import { encodeRecord } from "../../core/records";
import { KeyNotFoundError } from "../../core/store/errors";
import { actualLRPInstanceKey, desiredLRPKey, evacuatingActualLRPKey } from "../../core/store/keys";
import type { Store, StoreNode } from "../../core/store/store";
import { freshStore } from "../support/dynamo";

export const GUID = "process-guid";
export const DOMAIN = "cf-apps";
export const key = (index = 0, domain = DOMAIN) => actualLRPKey(GUID, index, domain);
export const instanceKey = (instanceGuid: string, cellId: string): ActualLRPInstanceKey => create(ActualLRPInstanceKeySchema, { instanceGuid, cellId });
export const cellA = instanceKey("instance-a", "cell-a");
export const cellB = instanceKey("instance-b", "cell-b");
export const netInfo = (address: string, ...ports: [number, number][]): ActualLRPNetInfo =>
  create(ActualLRPNetInfoSchema, { address, ports: ports.map(([containerPort, hostPort]) => create(PortMappingSchema, { containerPort, hostPort })) });
export const netA = netInfo("10.0.0.1", [8080, 61001]);
export const netB = netInfo("10.0.0.2", [8080, 61002]);

export class RecordingAuctioneer implements AuctioneerClient {
  lrpStarts: LRPStartRequest[][] = [];
  failWith?: Error;
  async requestLRPAuctions(starts: LRPStartRequest[]) {
    this.lrpStarts.push(starts);
    if (this.failWith) throw this.failWith;
  }
  async requestTaskAuctions() {}
  /** (process guid, indices) of each request, for assertions that do not care about the whole desired LRP. */
  get requested() {
    return this.lrpStarts.map((starts) => starts.map((s) => ({ processGuid: s.desiredLRP?.processGuid, indices: s.indices })));
  }
}

export class RecordingReps implements RepClient {
  stops: { repAddress: string; processGuid: string; instanceGuid: string }[] = [];
  failWith?: Error;
  async stopLRPInstance(repAddress: string, processGuid: string, instanceGuid: string) {
    this.stops.push({ repAddress, processGuid, instanceGuid });
    if (this.failWith) throw this.failWith;
  }
  async cancelTask() {}
}

/** Lets a test act between an operation's read and its write: `onGet` runs after every get, found or not. */
export interface RacingStore extends Store {
  onGet?: (key: string) => Promise<void>;
  /** The store without the hook, for the racing writes themselves. */
  readonly raw: Store;
  /** Runs `race` once, right after the next read of `storeKey`. */
  raceOnce(storeKey: string, race: () => Promise<unknown>): void;
  /** Replaces one store method (to interfere with writes). */
  override<M extends keyof Store>(method: M, replacement: Store[M]): void;
}

/** A proxy, so every other method of the port passes straight through whatever the port grows. */
export function racingStore(raw: Store): RacingStore {
  const extra: Partial<Store> & Pick<RacingStore, "onGet" | "raw" | "raceOnce" | "override"> = {
    raw,
    async get(key: string) {
      try {
        return await raw.get(key);
      } finally {
        const hook = extra.onGet;
        if (hook) await hook(key);
      }
    },
    raceOnce(storeKey, race) {
      let done = false;
      extra.onGet = async (k) => {
        if (done || k !== storeKey) return;
        done = true;
        await race();
      };
    },
    override(method, replacement) {
      (extra as Record<string, unknown>)[method] = replacement;
    },
  };
  return new Proxy(raw, {
    get(target, prop, receiver) {
      if (prop in extra) return (extra as Record<string | symbol, unknown>)[prop];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(_target, prop, value) {
      (extra as Record<string | symbol, unknown>)[prop] = value;
      return true;
    },
  }) as RacingStore;
}

export interface Harness {
  ctx: BBSContext;
  clock: ManualClock;
  store: RacingStore;
  auctioneer: RecordingAuctioneer;
  reps: RecordingReps;
}

export async function harness(): Promise<Harness> {
  // A day ahead of real time: DynamoDB Local's own TTL reaper deletes by real time, and would remove
  // nodes the manual clock still sees as live if the clock stood in the real past (ManualClock's
  // default does, once the real date is past it).
  const clock = new ManualClock(Date.now() + 24 * 3600 * 1000);
  const { store: dynamo } = await freshStore({ clock });
  const store = racingStore(dynamo);
  const auctioneer = new RecordingAuctioneer();
  const reps = new RecordingReps();
  const ctx: BBSContext = { store, clock, logger: silentLogger, auctioneer, reps, communicationTimeoutMs: 1000 };
  return { ctx, clock, store, auctioneer, reps };
}

export async function putDesiredLRP(h: Harness, instances = 3) {
  const desired = create(DesiredLRPSchema, {
    processGuid: GUID,
    domain: DOMAIN,
    rootFs: "docker:///cloudfoundry/grace",
    instances,
    action: create(ActionSchema, { runAction: create(RunActionSchema, { path: "/bin/sleep", args: ["100"], user: "vcap" }) }),
    modificationTag: create(ModificationTagSchema, { epoch: "desired-epoch", index: 0 }),
  });
  await h.store.create(desiredLRPKey(GUID), encodeRecord(DesiredLRPSchema, desired));
  return desired;
}

export interface RecordOptions {
  index?: number;
  instance?: ActualLRPInstanceKey;
  net?: ActualLRPNetInfo;
  placementError?: string;
  crashCount?: number;
  crashReason?: string;
  sinceNs?: bigint;
}

export function actualLRP(h: Harness, state: ActualLRPState, options: RecordOptions = {}): ActualLRP {
  const holds = state === ActualLRPState.Claimed || state === ActualLRPState.Running;
  return create(ActualLRPSchema, {
    actualLrpKey: key(options.index ?? 0),
    actualLrpInstanceKey: options.instance ?? (holds ? cellA : emptyInstanceKey()),
    actualLrpNetInfo: options.net ?? (state === ActualLRPState.Running ? netA : netInfo("")),
    crashCount: options.crashCount ?? 0,
    crashReason: options.crashReason ?? "",
    state,
    placementError: options.placementError ?? "",
    since: options.sinceNs ?? h.clock.nowNs(),
    modificationTag: create(ModificationTagSchema, { epoch: "epoch-1", index: 3 }),
  });
}

/** Writes an /instance record without validation. */
export async function putInstance(h: Harness, state: ActualLRPState, options: RecordOptions = {}): Promise<StoreNode> {
  const lrp = actualLRP(h, state, options);
  return h.store.set(actualLRPInstanceKey(GUID, options.index ?? 0), encodeActualLRP(lrp), actualLRPWriteOptions(lrp));
}

/** Writes an /evacuating record (always RUNNING) without validation. */
export async function putEvacuating(h: Harness, options: RecordOptions & { ttlSeconds?: number } = {}): Promise<StoreNode> {
  const lrp = actualLRP(h, ActualLRPState.Running, options);
  return h.store.set(evacuatingActualLRPKey(GUID, options.index ?? 0), encodeActualLRP(lrp), actualLRPWriteOptions(lrp, options.ttlSeconds));
}

async function read(h: Harness, storeKey: string): Promise<{ node: StoreNode; lrp: ActualLRP } | undefined> {
  try {
    const node = await h.store.get(storeKey);
    return { node, lrp: decodeActualLRP(node) };
  } catch (error) {
    if (error instanceof KeyNotFoundError) return undefined;
    throw error;
  }
}

export const readInstance = (h: Harness, index = 0) => read(h, actualLRPInstanceKey(GUID, index));
export const readEvacuating = (h: Harness, index = 0) => read(h, evacuatingActualLRPKey(GUID, index));
export const instancePath = (index = 0) => actualLRPInstanceKey(GUID, index);
export const evacuatingPath = (index = 0) => evacuatingActualLRPKey(GUID, index);

/** `since` as the manual clock reads it, in Unix ns. */
export const nowNs = (h: Harness) => h.clock.nowNs();
