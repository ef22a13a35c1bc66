// Convergence over HTTP against the local stack: one case per rule of semantics §6.1 and §6.2, each
// pass answered on the wire and its auctions received, batched, by a recording auctioneer; a lost
// cell converged from the change stream with no call at all; and the local schedule.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ActualLRP } from "../../core/gen/models/actual_lrp_pb";
import { Task_State, type Task } from "../../core/gen/models/task_pb";
import { decodeActualLRP } from "../../core/actual-lrps";
import { systemClock } from "../../core/clock";
import { DynamoStore } from "../../core/store/dynamo-store";
import { makeDynamoDBClient } from "../../core/store/dynamo-table";
import { ActualLRPRoot, DesiredLRPRoot, TaskRoot, actualLRPInstanceKey, desiredLRPKey, taskKey } from "../../core/store/keys";
import { KeyNotFoundError } from "../../core/store/errors";
import type { StoreOp } from "../../core/store/store";
import { decodeTask } from "../../core/tasks";
import { ActualLRPState } from "../../core/models/actual-lrp";
import type { LocalStack } from "../../infra/local/stack";
import { post } from "../support/http-client";
import { startTestBBS } from "../support/local-bbs";
import { concat, errorOf, pb } from "../support/proto-wire";
import { startRecorder, type Recorder } from "../support/recorder";
import { SECOND_NS, actualLRP, desiredLRP, desiredOp, instanceOp, load, rawOp, task, taskOp, unlabelledDesiredOp } from "../support/convergence-fixtures";

const { Unclaimed, Claimed, Running, Crashed } = ActualLRPState;
const FRESH = "cf-apps";

let bbs: LocalStack;
let auctioneer: Recorder;
let rep: Recorder;
let callbacks: Recorder;
let store: DynamoStore;
let tableName: string;

const nowNs = () => systemClock.nowNs();
const ago = (seconds: number) => nowNs() - BigInt(seconds) * SECOND_NS;

const upsertCell = (cellId: string, ttl: number, repAddress = rep.url) =>
  post(bbs.url, "/v1/cells/upsert", concat(pb.message(1, pb.string(1, cellId), pb.string(2, repAddress), pb.string(3, "z1")), pb.varint(2, ttl)));
const convergeLRPs = () => post(bbs.url, "/v1/lrps/converge");
const convergeTasks = (body: Uint8Array = new Uint8Array(0)) => post(bbs.url, "/v1/tasks/converge", body);

interface LRPAuction {
  process_guid: string;
  instances: number;
  indices: number[];
}

/** The LRP auction requests received, decoded from their JSON. */
function lrpAuctions(): LRPAuction[][] {
  return auctioneer.requests
    .filter((r) => r.path === "/v1/lrps")
    .map((r) => (JSON.parse(r.body) as { desired_lrp: { process_guid: string; instances: number }; indices: number[] }[]).map((s) => ({ process_guid: s.desired_lrp.process_guid, instances: s.desired_lrp.instances, indices: s.indices })));
}

const taskAuctions = () => auctioneer.requests.filter((r) => r.path === "/v1/tasks").map((r) => (JSON.parse(r.body) as { task_guid: string }[]).map((t) => t.task_guid));

async function instance(guid: string, index: number): Promise<ActualLRP | undefined> {
  try {
    return decodeActualLRP(await store.get(actualLRPInstanceKey(guid, index)));
  } catch (error) {
    if (error instanceof KeyNotFoundError) return undefined;
    throw error;
  }
}

async function storedTask(guid: string): Promise<Task | undefined> {
  try {
    return decodeTask(await store.get(taskKey(guid)));
  } catch (error) {
    if (error instanceof KeyNotFoundError) return undefined;
    throw error;
  }
}

async function exists(key: string): Promise<boolean> {
  try {
    await store.get(key);
    return true;
  } catch (error) {
    if (error instanceof KeyNotFoundError) return false;
    throw error;
  }
}

/** Every test starts with no LRPs or tasks: a pass converges the whole store. */
async function clear() {
  for (const root of [ActualLRPRoot, DesiredLRPRoot, TaskRoot]) {
    for (const node of await store.list(root, { recursive: true })) await store.delete(node.key).catch(() => {});
  }
}

const seed = (...ops: StoreOp[]) => load(store, ops);

beforeAll(async () => {
  [auctioneer, rep, callbacks] = await Promise.all([startRecorder(), startRecorder(), startRecorder()]);
  tableName = `bbs-e2e-conv-${crypto.randomUUID().slice(0, 8)}`;
  // Expired cells are swept often, so a lost cell reaches the stream within a second.
  bbs = await startTestBBS({ auctioneerURL: auctioneer.url, tableName, expirySweepInterval: "300ms" });
  store = new DynamoStore({ client: makeDynamoDBClient({ endpoint: bbs.dynamodbEndpoint }), tableName, clock: systemClock });
  expect(errorOf((await upsertCell("cell-1", 3600)).body)).toBeUndefined();
  expect(errorOf((await post(bbs.url, "/v1/domains/upsert", concat(pb.string(1, FRESH), pb.varint(2, 0)))).body)).toBeUndefined();
});

afterAll(async () => {
  await bbs?.stop();
  await Promise.all([auctioneer?.close(), rep?.close(), callbacks?.close()]);
});

beforeEach(async () => {
  await clear();
  for (const r of [auctioneer, rep, callbacks]) r.requests.length = 0;
  auctioneer.respondWith(202);
  rep.respondWith(202);
  callbacks.respondWith(200);
});

describe("POST /v1/lrps/converge", () => {
  it("answers 200 with an empty ConvergeLRPsResponse and sends no auction when nothing needs one", async () => {
    await seed(desiredOp(desiredLRP("calm", 1, FRESH)), instanceOp(actualLRP("calm", 0, Running, { sinceNs: ago(100), cellId: "cell-1" })));
    const response = await convergeLRPs();
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/x-protobuf");
    expect(response.body.length).toBe(0);
    expect(lrpAuctions()).toEqual([]);
  });

  it("deletes records that do not decode or validate, which makes the listing readable again", async () => {
    // Desired LRPs are validated by convergence only when not labelled with their instance count by
    // the write that validated them (records from before the label).
    const bad = desiredLRP("bad-desired", 1, FRESH);
    bad.rootFs = "";
    await seed(
      rawOp(actualLRPInstanceKey("garbage", 0), "not a record"),
      instanceOp(actualLRP("claimless", 0, Claimed, { sinceNs: ago(1), cellId: "" })),
      unlabelledDesiredOp(bad),
    );
    expect(errorOf((await post(bbs.url, "/v1/actual_lrp_groups/list", concat(pb.string(1, ""), pb.string(2, "")))).body)?.type).toBe("UnknownError");
    expect(errorOf((await convergeLRPs()).body)).toBeUndefined();
    expect(await exists(actualLRPInstanceKey("garbage", 0))).toBe(false);
    expect(await exists(actualLRPInstanceKey("claimless", 0))).toBe(false);
    expect(await exists(desiredLRPKey("bad-desired"))).toBe(false);
    expect(errorOf((await post(bbs.url, "/v1/actual_lrp_groups/list", concat(pb.string(1, ""), pb.string(2, "")))).body)).toBeUndefined();
  });

  it("unclaims instances on cells that are not present and auctions them", async () => {
    await seed(
      desiredOp(desiredLRP("lost", 2, FRESH)),
      instanceOp(actualLRP("lost", 0, Running, { sinceNs: ago(100), cellId: "cell-gone" })),
      instanceOp(actualLRP("lost", 1, Claimed, { sinceNs: ago(100), cellId: "cell-1" })),
    );
    await convergeLRPs();
    expect(lrpAuctions()).toEqual([[{ process_guid: "lost", instances: 2, indices: [0] }]]);
    expect(await instance("lost", 0)).toMatchObject({ state: Unclaimed, actualLrpInstanceKey: { cellId: "", instanceGuid: "" } });
    expect((await instance("lost", 1))?.state).toBe(Claimed);
  });

  it("creates missing indices UNCLAIMED and auctions them", async () => {
    await seed(desiredOp(desiredLRP("gaps", 3, FRESH)), instanceOp(actualLRP("gaps", 1, Running, { sinceNs: ago(100), cellId: "cell-1" })));
    await convergeLRPs();
    expect(lrpAuctions()).toEqual([[{ process_guid: "gaps", instances: 3, indices: [0, 2] }]]);
    expect((await instance("gaps", 0))?.state).toBe(Unclaimed);
    expect((await instance("gaps", 2))?.state).toBe(Unclaimed);
  });

  it("retires extra indices when the domain is fresh: a running one is stopped by its rep, an unclaimed one deleted; a stale domain's are left", async () => {
    await seed(
      desiredOp(desiredLRP("shrunk", 1, FRESH)),
      instanceOp(actualLRP("shrunk", 0, Running, { sinceNs: ago(100), cellId: "cell-1" })),
      instanceOp(actualLRP("shrunk", 1, Running, { sinceNs: ago(100), cellId: "cell-1" })),
      instanceOp(actualLRP("shrunk", 2, Unclaimed, { sinceNs: ago(1) })),
      desiredOp(desiredLRP("stale", 1, "stale-domain")),
      instanceOp(actualLRP("stale", 0, Running, { sinceNs: ago(100), cellId: "cell-1", domain: "stale-domain" })),
      instanceOp(actualLRP("stale", 1, Running, { sinceNs: ago(100), cellId: "cell-1", domain: "stale-domain" })),
    );
    await convergeLRPs();
    expect(rep.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /v1/lrps/shrunk/instances/ig-shrunk-1/stop"]);
    expect((await instance("shrunk", 1))?.state).toBe(Running);
    expect(await instance("shrunk", 2)).toBeUndefined();
    expect((await instance("stale", 1))?.state).toBe(Running);
    expect(lrpAuctions()).toEqual([]);
  });

  it("restarts crashed instances whose backoff has passed, keeping the crash count", async () => {
    await seed(
      desiredOp(desiredLRP("crashy", 2, FRESH)),
      instanceOp(actualLRP("crashy", 0, Crashed, { sinceNs: ago(31), crashCount: 3 })),
      instanceOp(actualLRP("crashy", 1, Crashed, { sinceNs: ago(31), crashCount: 4 })),
    );
    await convergeLRPs();
    expect(lrpAuctions()).toEqual([[{ process_guid: "crashy", instances: 2, indices: [0] }]]);
    expect(await instance("crashy", 0)).toMatchObject({ state: Unclaimed, crashCount: 3, crashReason: "boom" });
    expect((await instance("crashy", 1))?.state).toBe(Crashed);
  });

  it("re-auctions UNCLAIMED instances older than 30 s, and only those", async () => {
    await seed(
      desiredOp(desiredLRP("waiting", 2, FRESH)),
      instanceOp(actualLRP("waiting", 0, Unclaimed, { sinceNs: ago(31) })),
      instanceOp(actualLRP("waiting", 1, Unclaimed, { sinceNs: ago(20) })),
    );
    await convergeLRPs();
    expect(lrpAuctions()).toEqual([[{ process_guid: "waiting", instances: 2, indices: [0] }]]);
  });

  it("retires instances without a desired LRP, including one on a missing cell (which crashed the original)", async () => {
    await seed(
      instanceOp(actualLRP("orphan", 0, Running, { sinceNs: ago(100), cellId: "cell-gone" })),
      instanceOp(actualLRP("orphan", 1, Unclaimed, { sinceNs: ago(1) })),
      instanceOp(actualLRP("orphan", 2, Running, { sinceNs: ago(100), cellId: "cell-1" })),
      instanceOp(actualLRP("kept", 0, Running, { sinceNs: ago(100), cellId: "cell-gone", domain: "stale-domain" })),
    );
    const response = await convergeLRPs();
    expect(response.status).toBe(200);
    expect(errorOf(response.body)).toBeUndefined();
    expect(await instance("orphan", 0)).toBeUndefined();
    expect(await instance("orphan", 1)).toBeUndefined();
    expect(rep.requests.map((r) => r.path)).toEqual(["/v1/lrps/orphan/instances/ig-orphan-2/stop"]);
    expect((await instance("kept", 0))?.state).toBe(Running);
    expect(lrpAuctions()).toEqual([]);
  });

  it("batches every auction of a pass into one request, one entry per process guid", async () => {
    await seed(
      desiredOp(desiredLRP("a", 2, FRESH)),
      desiredOp(desiredLRP("b", 2, FRESH)),
      instanceOp(actualLRP("a", 0, Running, { sinceNs: ago(100), cellId: "cell-gone" })),
      instanceOp(actualLRP("b", 0, Crashed, { sinceNs: ago(31), crashCount: 3 })),
      instanceOp(actualLRP("b", 1, Unclaimed, { sinceNs: ago(40) })),
    );
    await convergeLRPs();
    expect(lrpAuctions()).toEqual([
      [
        { process_guid: "a", instances: 2, indices: [0, 1] },
        { process_guid: "b", instances: 2, indices: [0, 1] },
      ],
    ]);
  });
});

describe("POST /v1/tasks/converge", () => {
  const durations = (kickS: number, expirePendingS: number, expireCompletedS: number) =>
    concat(
      pb.varint(1, BigInt(kickS) * SECOND_NS),
      pb.varint(2, BigInt(expirePendingS) * SECOND_NS),
      pb.varint(3, BigInt(expireCompletedS) * SECOND_NS),
    );

  it("re-auctions Pending tasks older than the kick duration, in one request", async () => {
    await seed(
      taskOp(task("kick-1", Task_State.Pending, { createdAt: ago(20) })),
      taskOp(task("kick-2", Task_State.Pending, { createdAt: ago(20) })),
      taskOp(task("young", Task_State.Pending, { createdAt: ago(5) })),
    );
    const response = await convergeTasks(durations(10, 60, 60));
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(0);
    expect(taskAuctions().map((guids) => guids.sort())).toEqual([["kick-1", "kick-2"]]);
    expect((await storedTask("kick-1"))?.state).toBe(Task_State.Pending);
  });

  it("fails Pending tasks older than expire-pending", async () => {
    await seed(taskOp(task("never-started", Task_State.Pending, { createdAt: ago(61) })));
    await convergeTasks(durations(10, 60, 600));
    expect(await storedTask("never-started")).toMatchObject({ state: Task_State.Completed, failed: true, failureReason: "not started within time limit" });
    expect(taskAuctions()).toEqual([]);
  });

  it("fails Running tasks whose cell is not present", async () => {
    await seed(
      taskOp(task("orphaned", Task_State.Running, { createdAt: ago(1), cellId: "cell-gone" })),
      taskOp(task("fine", Task_State.Running, { createdAt: ago(1), cellId: "cell-1" })),
    );
    await convergeTasks(durations(10, 60, 600));
    expect(await storedTask("orphaned")).toMatchObject({ state: Task_State.Completed, failed: true, failureReason: "cell disappeared before completion", cellId: "" });
    expect((await storedTask("fine"))?.state).toBe(Task_State.Running);
  });

  it("re-kicks Completed tasks with a callback URL, whose callback is then delivered from the change stream", async () => {
    await seed(
      taskOp(task("done-cb", Task_State.Completed, { createdAt: ago(20), callbackUrl: `${callbacks.url}/done` })),
      taskOp(task("done-no-cb", Task_State.Completed, { createdAt: ago(20) })),
    );
    await convergeTasks(durations(10, 60, 600));
    const [delivered] = await callbacks.waitFor(1);
    expect(delivered!.path).toBe("/done");
    expect(JSON.parse(delivered!.body)).toMatchObject({ task_guid: "done-cb", failed: false });
    await expect.poll(() => storedTask("done-cb"), { timeout: 10_000 }).toBeUndefined();
    expect((await storedTask("done-no-cb"))?.state).toBe(Task_State.Completed);
  });

  it("demotes Resolving tasks past the kick duration to Completed, which re-triggers their callback", async () => {
    await seed(taskOp(task("stuck", Task_State.Resolving, { createdAt: ago(20), callbackUrl: `${callbacks.url}/stuck` })));
    await convergeTasks(durations(10, 60, 600));
    const [delivered] = await callbacks.waitFor(1);
    expect(JSON.parse(delivered!.body)).toMatchObject({ task_guid: "stuck" });
  });

  it("deletes Completed and Resolving tasks past expire-completed", async () => {
    await seed(
      taskOp(task("old-done", Task_State.Completed, { createdAt: ago(100), firstCompletedAt: ago(61) })),
      taskOp(task("old-resolving", Task_State.Resolving, { createdAt: ago(100), firstCompletedAt: ago(61) })),
      taskOp(task("new-done", Task_State.Completed, { createdAt: ago(100), updatedAt: ago(5), firstCompletedAt: ago(5) })),
    );
    await convergeTasks(durations(10, 600, 60));
    expect(await storedTask("old-done")).toBeUndefined();
    expect(await storedTask("old-resolving")).toBeUndefined();
    expect((await storedTask("new-done"))?.state).toBe(Task_State.Completed);
  });

  it("takes an empty body as the default durations (30 s, 30 min, 120 s), not as zero: nothing is wiped", async () => {
    await seed(
      taskOp(task("pending-40s", Task_State.Pending, { createdAt: ago(40) })),
      taskOp(task("pending-10s", Task_State.Pending, { createdAt: ago(10) })),
      taskOp(task("done-60s", Task_State.Completed, { createdAt: ago(60) })),
      taskOp(task("done-3m", Task_State.Completed, { createdAt: ago(180) })),
    );
    const response = await convergeTasks();
    expect(errorOf(response.body)).toBeUndefined();
    expect(taskAuctions()).toEqual([["pending-40s"]]);
    expect((await storedTask("pending-40s"))?.state).toBe(Task_State.Pending);
    expect((await storedTask("pending-10s"))?.state).toBe(Task_State.Pending);
    expect((await storedTask("done-60s"))?.state).toBe(Task_State.Completed);
    expect(await storedTask("done-3m")).toBeUndefined();
  });

  it("answers a body that does not decode with InvalidRequest", async () => {
    expect(errorOf((await convergeTasks(Uint8Array.from([0x08]))).body)?.type).toBe("InvalidRequest");
  });
});

describe("a cell that disappears", () => {
  it("has its instances re-auctioned from the change stream, with no convergence call", async () => {
    expect(errorOf((await upsertCell("cell-brief", 1)).body)).toBeUndefined();
    await seed(
      desiredOp(desiredLRP("on-brief", 2, FRESH)),
      instanceOp(actualLRP("on-brief", 0, Running, { sinceNs: ago(100), cellId: "cell-brief" })),
      instanceOp(actualLRP("on-brief", 1, Running, { sinceNs: ago(100), cellId: "cell-1" })),
    );
    // Nothing runs convergence here, so only the removal of the cell's record can start this auction.
    await auctioneer.waitFor(1, 15_000);
    expect(lrpAuctions()).toEqual([[{ process_guid: "on-brief", instances: 2, indices: [0] }]]);
    expect((await instance("on-brief", 0))?.state).toBe(Unclaimed);
    expect((await instance("on-brief", 1))?.state).toBe(Running);
  });
});

describe("the local schedule", () => {
  it("runs the scheduled function every BBS_CONVERGENCE_INTERVAL", async () => {
    // A second stack on the same table (the handlers' context is per process), with a 1 s schedule.
    await bbs.stop();
    bbs = await startTestBBS({ auctioneerURL: auctioneer.url, tableName, convergenceInterval: "1s" });
    await seed(desiredOp(desiredLRP("scheduled", 1, FRESH)));
    const [request] = await auctioneer.waitFor(1, 10_000);
    expect(JSON.parse(request!.body)).toMatchObject([{ desired_lrp: { process_guid: "scheduled" }, indices: [0] }]);
  });
});
