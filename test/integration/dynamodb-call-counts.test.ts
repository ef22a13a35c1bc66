// What each BBS operation costs in DynamoDB calls, counted by a wrapper around the client
// (test/support/counting-client.ts, the one `npm run bench` prints from) while the route's Lambda
// handler runs over DynamoDB Local. These are the floors of anchors §1.6 where the store can reach
// them: a lifecycle transition is one strongly consistent read and one conditional write, a start on a
// missing record one conditional create, a list one Query per page per shard.
import { create } from "@bufbuild/protobuf";
import { beforeEach, describe, expect, it } from "vitest";
import { ActualLRPInstanceKeySchema, ActualLRPNetInfoSchema, PortMappingSchema } from "../../core/gen/models/actual_lrp_pb";
import { TaskDefinitionSchema } from "../../core/gen/models/task_pb";
import { ActualLRPState, actualLRPKey } from "../../core/models/actual-lrp";
import { actualLRPProcessDir } from "../../core/store/keys";
import { locateKey } from "../../core/store/dynamo-store";
import { Attr } from "../../core/store/dynamo-table";
import { DOMAIN, actualLRP, actualNode, bulkLoad, desiredLRP } from "../bench/fixtures";
import { SHARDS, benchContext, installContext, invoke, type BenchContext } from "../bench/harness";
import { freshStore } from "../support/dynamo";

const GUID = "pg-count";
const cellA = create(ActualLRPInstanceKeySchema, { instanceGuid: "ig-a", cellId: "cell-a" });
const cellB = create(ActualLRPInstanceKeySchema, { instanceGuid: "ig-b", cellId: "cell-b" });
const net = create(ActualLRPNetInfoSchema, { address: "10.0.0.1", ports: [create(PortMappingSchema, { containerPort: 8080, hostPort: 61001 })] });
const key = (guid = GUID, index = 0) => actualLRPKey(guid, index, DOMAIN);

let bench: BenchContext;

beforeEach(async () => {
  const { endpoint, tableName } = await freshStore();
  bench = benchContext(endpoint, tableName);
  installContext(bench);
});

/** The DynamoDB calls the route's handler made, by kind (`UpdateItem(conditional,failed)` = lost its condition). */
async function callsOf(route: string, request: Record<string, unknown>): Promise<Record<string, number>> {
  const { calls } = await bench.counting.track(() => invoke(route, request as never));
  return calls.summary();
}

const desire = (guid = GUID, instances = 1) => invoke("DesireDesiredLRP", { desiredLrp: desiredLRP(guid, instances) });
const claim = (ik = cellA) => invoke("ClaimActualLRP", { processGuid: GUID, index: 0, actualLrpInstanceKey: ik });
const start = (ik = cellA) => invoke("StartActualLRP", { actualLrpKey: key(), actualLrpInstanceKey: ik, actualLrpNetInfo: net });

describe("DynamoDB calls per lifecycle operation", () => {
  it("desire with one instance: the desired LRP and its UNCLAIMED instance, one conditional create each", async () => {
    expect(await callsOf("DesireDesiredLRP", { desiredLrp: desiredLRP(GUID, 1) })).toEqual({ "UpdateItem(conditional)": 2 });
    expect(await callsOf("DesireDesiredLRP", { desiredLrp: desiredLRP("pg-three", 3) })).toEqual({ "UpdateItem(conditional)": 4 });
  });

  it("claim: one strongly consistent read, one conditional write", async () => {
    await desire();
    expect(await callsOf("ClaimActualLRP", { processGuid: GUID, index: 0, actualLrpInstanceKey: cellA })).toEqual({
      "GetItem(consistent)": 1,
      "UpdateItem(conditional)": 1,
    });
    // A claim the record refuses costs the read alone.
    await expect(claim(cellB)).rejects.toThrow(/BBS error/);
    const { calls } = await bench.counting.track(() => claim(cellB).catch(() => undefined));
    expect(calls.summary()).toEqual({ "GetItem(consistent)": 1 });
  });

  it("start on a missing record: one conditional create, no read", async () => {
    expect(await callsOf("StartActualLRP", { actualLrpKey: key(), actualLrpInstanceKey: cellA, actualLrpNetInfo: net })).toEqual({
      "UpdateItem(conditional)": 1,
    });
  });

  it("start on a CLAIMED record: the failed create reports the record, one conditional write, no read", async () => {
    await desire();
    await claim();
    expect(await callsOf("StartActualLRP", { actualLrpKey: key(), actualLrpInstanceKey: cellA, actualLrpNetInfo: net })).toEqual({
      "UpdateItem(conditional)": 1,
      "UpdateItem(conditional,failed)": 1,
    });
    // Started again, identically: nothing to write.
    expect(await callsOf("StartActualLRP", { actualLrpKey: key(), actualLrpInstanceKey: cellA, actualLrpNetInfo: net })).toEqual({
      "UpdateItem(conditional,failed)": 1,
    });
  });

  it("crash: one read and one conditional write, plus the desired LRP read for the auction of a restart", async () => {
    await desire();
    await claim();
    await start();
    expect(
      await callsOf("CrashActualLRP", { actualLrpKey: key(), actualLrpInstanceKey: cellA, errorMessage: "exit 1" }),
    ).toEqual({ "GetItem(consistent)": 2, "UpdateItem(conditional)": 1 });
    expect(bench.collaborators.lrpAuctions).toBe(2); // desire, then the restart
  });

  it("fail and remove: one read, one conditional write or delete", async () => {
    await desire();
    expect(await callsOf("FailActualLRP", { actualLrpKey: key(), errorMessage: "no cell fits" })).toEqual({
      "GetItem(consistent)": 1,
      "UpdateItem(conditional)": 1,
    });
    expect(await callsOf("RemoveActualLRP", { processGuid: GUID, index: 0 })).toEqual({
      "DeleteItem(conditional)": 1,
      "GetItem(consistent)": 1,
    });
  });

  it("tasks: desire is one conditional create; start one read and one conditional write", async () => {
    const definition = create(TaskDefinitionSchema, { rootFs: "docker:///busybox", action: desiredLRP("x").action, memoryMb: 64, diskMb: 64 });
    expect(await callsOf("DesireTask", { taskGuid: "task-1", domain: "tasks", taskDefinition: definition })).toEqual({ "UpdateItem(conditional)": 1 });
    expect(await callsOf("StartTask", { taskGuid: "task-1", cellId: "cell-a" })).toEqual({ "GetItem(consistent)": 1, "UpdateItem(conditional)": 1 });
  });
});

describe("DynamoDB calls per read", () => {
  it("one record: one GetItem; one index of a process guid: one Query", async () => {
    await desire();
    expect(await callsOf("DesiredLRPByProcessGuid", { processGuid: GUID })).toEqual({ "GetItem(consistent)": 1 });
    expect(await callsOf("ActualLRPGroupsByProcessGuidAndIndex", { processGuid: GUID, index: 0 })).toEqual({ "Query(consistent)": 1 });
  });

  it("a whole root: one strongly consistent Query per shard (one page each here)", async () => {
    await desire();
    expect(await callsOf("ActualLRPGroups", {})).toEqual({ "Query(consistent)": SHARDS });
    expect(await callsOf("DesiredLRPs", {})).toEqual({ "Query(consistent)": SHARDS });
    expect(await callsOf("Tasks", {})).toEqual({ "Query(consistent)": SHARDS });
  });

  it("one process guid: one Query per 1 MB page, and nothing else", async () => {
    await desire("pg-small", 2);
    expect(await callsOf("ActualLRPGroupsByProcessGuid", { processGuid: "pg-small" })).toEqual({ "Query(consistent)": 1 });

    // 700 crashed instances of one guid with 2 KB crash reasons (about 1.5 MB): more than one page.
    const now = BigInt(Date.now()) * 1_000_000n;
    const many = Array.from({ length: 700 }, (_, i) => {
      const lrp = actualLRP("pg-big", i, { state: ActualLRPState.Crashed, sinceNs: now, crashCount: 3 });
      lrp.crashReason = "x".repeat(2048);
      return actualNode(lrp);
    });
    await bulkLoad(bench.store.client, bench.tableName, SHARDS, many);
    const { pk } = locateKey(`${actualLRPProcessDir("pg-big")}/0/instance`, SHARDS);
    let pages = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: { LastEvaluatedKey?: Record<string, unknown> } = await bench.store.client.call("Query", {
        TableName: bench.tableName,
        ConsistentRead: true,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :below)",
        ExpressionAttributeNames: { "#pk": Attr.pk, "#sk": Attr.sk },
        ExpressionAttributeValues: { ":pk": { S: pk }, ":below": { S: "pg-big/" } },
        ...(startKey ? { ExclusiveStartKey: startKey as never } : {}),
      });
      pages++;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    expect(pages).toBeGreaterThan(1);
    const { result, calls } = await bench.counting.track(() => invoke("ActualLRPGroupsByProcessGuid", { processGuid: "pg-big" }));
    expect((result.response as { actualLrpGroups: unknown[] }).actualLrpGroups).toHaveLength(700);
    expect(calls.summary()).toEqual({ "Query(consistent)": pages });
  }, 120_000);
});

describe("DynamoDB calls of an LRP convergence pass", () => {
  // Per pass: the desired LRPs' labels, the actual LRPs, the cells before and after them, the domains.
  const rootReads = 5 * SHARDS;

  it("with nothing to repair: one Query per shard page of each root, and not one desired LRP record read", async () => {
    await invoke("UpsertDomain", { domain: DOMAIN, ttl: 60 });
    await desire("pg-a", 2);
    await desire("pg-b", 1);
    expect(await callsOf("ConvergeLRPs", {})).toEqual({ "Query(consistent)": rootReads });
  });

  it("with repairs: one batched read of the desired LRPs they need, one conditional write each, no single-item read", async () => {
    await invoke("UpsertDomain", { domain: DOMAIN, ttl: 60 });
    await desire("pg-a", 2);
    await desire("pg-b", 1);
    await desire("pg-c", 1);
    await bench.store.delete(`${actualLRPProcessDir("pg-a")}/1/instance`);
    await bench.store.delete(`${actualLRPProcessDir("pg-b")}/0/instance`);
    // Nobody desires this one, and its UNCLAIMED record is simply deleted.
    await bulkLoad(bench.store.client, bench.tableName, SHARDS, [actualNode(actualLRP("pg-gone", 0, { state: ActualLRPState.Unclaimed, sinceNs: BigInt(Date.now()) * 1_000_000n }))]);
    const auctionedBefore = bench.collaborators.auctionedIndices;
    expect(await callsOf("ConvergeLRPs", {})).toEqual({
      "BatchGetItem(consistent)": 1,
      "DeleteItem(conditional)": 1,
      "Query(consistent)": rootReads,
      "UpdateItem(conditional)": 2,
    });
    expect(bench.collaborators.auctionedIndices - auctionedBefore).toBe(2);
  });
});
