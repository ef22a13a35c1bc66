// The actual-LRP lifecycle routes, cell presence and retirement over HTTP against the local stack,
// with a recording auctioneer and a recording rep on loopback (registered through /v1/cells/upsert),
// plus the concurrency guarantees: 100 racing claims have exactly one winner, and starts racing claims
// always end RUNNING under one starting cell.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LocalStack } from "../../infra/local/stack";
import { post } from "../support/http-client";
import { startTestBBS } from "../support/local-bbs";
import { all, errorOf, first, hex, pb, readFields, str, sub } from "../support/proto-wire";
import { startRecorder, type Recorder } from "../support/recorder";
import { bbsClient, groupOf, sleep, wireValidationProblems, type BBSClient } from "./actual-lrp-wire";

let stack: LocalStack;
let bbs: BBSClient;
let auctioneer: Recorder;
let rep: Recorder;

beforeAll(async () => {
  auctioneer = await startRecorder();
  rep = await startRecorder();
  stack = await startTestBBS({ auctioneerURL: auctioneer.url });
  bbs = bbsClient(stack.url);
});

afterAll(async () => {
  await stack?.stop();
  await auctioneer?.close();
  await rep?.close();
});

beforeEach(() => {
  auctioneer.requests.length = 0;
  auctioneer.respondWith(202);
  rep.requests.length = 0;
  rep.respondWith(202);
});

const errorType = (response: { body: Uint8Array }) => errorOf(response.body)?.type;
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** Desires `guid` and forgets the auction request that came with it. */
async function desired(guid: string, instances = 1) {
  expect(errorType(await bbs.desire(guid, instances))).toBeUndefined();
  await auctioneer.waitFor(1);
  auctioneer.requests.length = 0;
}

const instanceOf = async (guid: string, index = 0) => (await groupOf(bbs, guid, index)).instance;

describe("actual_lrps/claim", () => {
  it("claims an UNCLAIMED instance: CLAIMED, tag + 1, since untouched; an empty 200 protobuf body", async () => {
    await desired("claim-1");
    const before = await instanceOf("claim-1");
    const response = await bbs.claim("claim-1", 0, "ig-1", "cell-1");
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/x-protobuf");
    expect(response.body.length).toBe(0);
    const after = await instanceOf("claim-1");
    expect(after).toMatchObject({ state: "CLAIMED", instanceGuid: "ig-1", cellId: "cell-1", since: before?.since });
    expect(after?.tag).toEqual({ epoch: before?.tag.epoch, index: 1 });
  });

  it("answers ResourceNotFound for a missing instance, ActualLRPCannotBeClaimed for another cell's, InvalidRequest without an instance key", async () => {
    expect(errorType(await bbs.claim("claim-missing", 0, "ig-1", "cell-1"))).toBe("ResourceNotFound");
    await desired("claim-2");
    await bbs.claim("claim-2", 0, "ig-1", "cell-1");
    expect(errorOf((await bbs.claim("claim-2", 0, "ig-2", "cell-2")).body)).toEqual({ type: "ActualLRPCannotBeClaimed", message: "cannot claim actual LRP" });
    const noInstance = await post(stack.url, "/v1/actual_lrps/claim", pb.string(1, "claim-2"));
    expect(errorOf(noInstance.body)).toEqual({ type: "InvalidRequest", message: "Invalid field: actual_lrp_instance_key" });
  });

  it("100 concurrent claims of one UNCLAIMED instance by 100 cells: exactly one wins, 99 get ActualLRPCannotBeClaimed, the record is valid and the winner's", async () => {
    await desired("claim-race");
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => bbs.claim("claim-race", 0, `ig-${i}`, `cell-${i}`)));
    const errors = responses.map(errorType);
    const winners = errors.flatMap((e, i) => (e === undefined ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(errors.filter((e) => e === "ActualLRPCannotBeClaimed")).toHaveLength(99);
    const record = await instanceOf("claim-race");
    expect(record).toMatchObject({ state: "CLAIMED", instanceGuid: `ig-${winners[0]}`, cellId: `cell-${winners[0]}` });
    expect(record?.tag.index).toBe(1);
    expect(wireValidationProblems(record!)).toEqual([]);
  });
});

describe("actual_lrps/start", () => {
  it("creates a missing record RUNNING (no desired LRP needed) with since in Unix ns and a new epoch at index 0", async () => {
    const before = nowNs();
    expect(errorType(await bbs.start("start-missing", 3, "ig-1", "cell-1", "10.0.0.9"))).toBeUndefined();
    const record = await instanceOf("start-missing", 3);
    expect(record).toMatchObject({ state: "RUNNING", address: "10.0.0.9", ports: [[8080, 61000]], crashCount: 0, tag: { index: 0 } });
    expect(record!.since).toBeGreaterThanOrEqual(before);
    expect(record!.since).toBeLessThanOrEqual(nowNs() + 1_000_000n);
    expect(record!.tag.epoch).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("wins over another cell's claim; a second cell's start then gets ActualLRPCannotBeStarted; a repeat is idempotent", async () => {
    await desired("start-1");
    await bbs.claim("start-1", 0, "ig-1", "cell-1");
    expect(errorType(await bbs.start("start-1", 0, "ig-2", "cell-2"))).toBeUndefined();
    expect(await instanceOf("start-1")).toMatchObject({ state: "RUNNING", cellId: "cell-2", tag: { index: 2 } });
    expect(errorType(await bbs.start("start-1", 0, "ig-1", "cell-1"))).toBe("ActualLRPCannotBeStarted");
    expect(errorType(await bbs.start("start-1", 0, "ig-2", "cell-2"))).toBeUndefined();
    expect((await instanceOf("start-1"))?.tag.index).toBe(2);
    expect(errorType(await bbs.start("start-1", 0, "ig-2", "cell-2", "10.0.0.1", "other-domain"))).toBe("ActualLRPCannotBeStarted");
  });

  it("claim from RUNNING by the same instance goes back to CLAIMED and wipes the net info", async () => {
    await bbs.start("start-2", 0, "ig-1", "cell-1");
    expect(errorType(await bbs.claim("start-2", 0, "ig-1", "cell-1"))).toBeUndefined();
    expect(await instanceOf("start-2")).toMatchObject({ state: "CLAIMED", address: "", ports: [] });
  });

  it("50 starts racing 50 claims by 100 cells: the record ends RUNNING, valid, owned by the one start that won", async () => {
    await desired("start-race");
    const requests = Array.from({ length: 100 }, (_, i) =>
      i % 2 === 0 ? bbs.start("start-race", 0, `ig-${i}`, `cell-${i}`, `10.0.1.${i}`) : bbs.claim("start-race", 0, `ig-${i}`, `cell-${i}`),
    );
    const errors = (await Promise.all(requests)).map(errorType);
    const startWinners = errors.flatMap((e, i) => (i % 2 === 0 && e === undefined ? [i] : []));
    const claimWinners = errors.flatMap((e, i) => (i % 2 === 1 && e === undefined ? [i] : []));
    expect(startWinners).toHaveLength(1);
    expect(errors.filter((e, i) => i % 2 === 0 && e !== undefined).every((e) => e === "ActualLRPCannotBeStarted")).toBe(true);
    expect(claimWinners.length).toBeLessThanOrEqual(1);
    expect(errors.filter((e, i) => i % 2 === 1 && e !== undefined).every((e) => e === "ActualLRPCannotBeClaimed")).toBe(true);
    const record = await instanceOf("start-race");
    expect(record).toMatchObject({ state: "RUNNING", instanceGuid: `ig-${startWinners[0]}`, cellId: `cell-${startWinners[0]}`, address: `10.0.1.${startWinners[0]}` });
    expect(record?.tag.index).toBe(1 + claimWinners.length);
    expect(wireValidationProblems(record!)).toEqual([]);
  });
});

describe("actual_lrps/crash", () => {
  it("first crash: UNCLAIMED with crash count and reason, one auction for that index with the desired LRP; third crash stays CRASHED", async () => {
    await desired("crash-1", 2);
    for (const expected of [
      { state: "UNCLAIMED", crashCount: 1, auctions: 1 },
      { state: "UNCLAIMED", crashCount: 2, auctions: 2 },
      { state: "CRASHED", crashCount: 3, auctions: 2 },
    ]) {
      await bbs.claim("crash-1", 1, "ig-1", "cell-1");
      await bbs.start("crash-1", 1, "ig-1", "cell-1");
      expect(errorType(await bbs.crash("crash-1", 1, "ig-1", "cell-1", "exited with status 2"))).toBeUndefined();
      expect(await instanceOf("crash-1", 1)).toMatchObject({ state: expected.state, crashCount: expected.crashCount, crashReason: "exited with status 2" });
      if (expected.auctions > auctioneer.requests.length) await auctioneer.waitFor(expected.auctions);
      expect(auctioneer.requests).toHaveLength(expected.auctions);
    }
    const auction = auctioneer.requests[0];
    expect([auction?.method, auction?.path, auction?.headers["content-type"]]).toEqual(["POST", "/v1/lrps", "application/json"]);
    const [start] = JSON.parse(auction?.body ?? "[]");
    expect(start.indices).toEqual([1]);
    expect(start.desired_lrp).toMatchObject({ process_guid: "crash-1", domain: "cf-apps", instances: 2 });
  });

  it("answers ResourceNotFound for a missing instance and ActualLRPCannotBeCrashed for another cell's or an UNCLAIMED one", async () => {
    expect(errorType(await bbs.crash("crash-missing", 0, "ig-1", "cell-1"))).toBe("ResourceNotFound");
    await desired("crash-2");
    expect(errorType(await bbs.crash("crash-2", 0, "ig-1", "cell-1"))).toBe("ActualLRPCannotBeCrashed");
    await bbs.start("crash-2", 0, "ig-1", "cell-1");
    expect(errorType(await bbs.crash("crash-2", 0, "ig-2", "cell-2"))).toBe("ActualLRPCannotBeCrashed");
  });

  it("decision: when the auctioneer fails, the crash still succeeds and the instance stays UNCLAIMED for convergence", async () => {
    await desired("crash-3");
    auctioneer.respondWith(500);
    await bbs.start("crash-3", 0, "ig-1", "cell-1");
    expect(errorType(await bbs.crash("crash-3", 0, "ig-1", "cell-1"))).toBeUndefined();
    await auctioneer.waitFor(1);
    expect(await instanceOf("crash-3")).toMatchObject({ state: "UNCLAIMED", crashCount: 1 });
  });

  it("without a desired LRP: the instance is deleted and no auction is sent (never one with a null desired LRP)", async () => {
    await bbs.start("crash-undesired", 0, "ig-1", "cell-1");
    expect(errorType(await bbs.crash("crash-undesired", 0, "ig-1", "cell-1"))).toBeUndefined();
    expect(await instanceOf("crash-undesired")).toBeUndefined();
    await sleep(200);
    expect(auctioneer.requests).toEqual([]);
  });
});

describe("actual_lrps/fail and actual_lrps/remove", () => {
  it("fail sets the placement error of an UNCLAIMED instance and bumps since; not on a CLAIMED one; ResourceNotFound when missing", async () => {
    await desired("fail-1");
    const before = await instanceOf("fail-1");
    expect(errorType(await bbs.fail("fail-1", 0, "insufficient resources"))).toBeUndefined();
    const after = await instanceOf("fail-1");
    expect(after).toMatchObject({ state: "UNCLAIMED", placementError: "insufficient resources", tag: { index: 1 } });
    expect(after!.since).toBeGreaterThan(before!.since);
    await bbs.claim("fail-1", 0, "ig-1", "cell-1");
    expect(errorType(await bbs.fail("fail-1", 0, "again"))).toBe("ActualLRPCannotBeFailed");
    expect(errorType(await bbs.fail("fail-missing", 0, "x"))).toBe("ResourceNotFound");
    expect(errorOf((await post(stack.url, "/v1/actual_lrps/fail", pb.message(1, pb.string(1, "fail-1"), pb.string(3, "cf-apps")))).body)).toEqual({
      type: "InvalidRequest",
      message: "Invalid field: error_message",
    });
  });

  it("remove deletes any instance whoever owns it; ResourceNotFound after", async () => {
    await bbs.start("remove-1", 0, "ig-1", "cell-1");
    expect(errorType(await bbs.remove("remove-1", 0))).toBeUndefined();
    expect(await instanceOf("remove-1")).toBeUndefined();
    expect(errorType(await bbs.remove("remove-1", 0))).toBe("ResourceNotFound");
  });
});

describe("cells (presence in place of consul)", () => {
  const cellIds = async () =>
    all(readFields((await bbs.cells()).body), 2)
      .map((c) => ({ cellId: str(first(sub(c), 1)), repAddress: str(first(sub(c), 2)) }))
      .sort((a, b) => (a.cellId ?? "").localeCompare(b.cellId ?? ""));

  it("upserts and lists cells; a re-upsert replaces the presence; the presence expires with its ttl", async () => {
    const sentAt = Date.now();
    expect((await bbs.upsertCell("cells-a", "http://127.0.0.1:1801", 3)).body.length).toBe(0);
    await bbs.upsertCell("cells-b", "http://127.0.0.1:1802", 60);
    await bbs.upsertCell("cells-b", "http://127.0.0.1:1803", 60);
    const ours = async () => (await cellIds()).filter((c) => c.cellId?.startsWith("cells-"));
    expect(await ours()).toEqual([
      { cellId: "cells-a", repAddress: "http://127.0.0.1:1801" },
      { cellId: "cells-b", repAddress: "http://127.0.0.1:1803" },
    ]);
    // Polled, not slept: the expiry must come, and not before the ttl.
    let goneAt: number | undefined;
    while (goneAt === undefined && Date.now() - sentAt < 10_000) {
      if ((await ours()).length === 1) goneAt = Date.now();
      else await sleep(100);
    }
    expect(goneAt! - sentAt).toBeGreaterThanOrEqual(3000);
    expect((await ours()).map((c) => c.cellId)).toEqual(["cells-b"]);
  });

  it("refuses a presence without a usable rep address, and a ttl of 0", async () => {
    expect(errorOf((await bbs.upsertCell("cells-c", "not a url", 10)).body)).toEqual({ type: "InvalidRequest", message: "Invalid field: rep_address" });
    expect(errorOf((await bbs.upsertCell("cells-c", "http://127.0.0.1:1804", 0)).body)).toEqual({ type: "InvalidRequest", message: "Invalid field: ttl" });
    expect(hex((await bbs.cells()).body)).not.toContain(Buffer.from("cells-c").toString("hex"));
  });
});

describe("actual_lrps/retire", () => {
  it("a RUNNING instance on a present cell: the rep gets POST /v1/lrps/<guid>/instances/<instance>/stop and the record stays", async () => {
    await bbs.upsertCell("retire-cell-1", rep.url, 60);
    await bbs.start("retire-1", 0, "ig-1", "retire-cell-1");
    expect(errorType(await bbs.retire("retire-1", 0))).toBeUndefined();
    expect(rep.requests.map((r) => [r.method, r.path])).toEqual([["POST", "/v1/lrps/retire-1/instances/ig-1/stop"]]);
    expect(await instanceOf("retire-1")).toMatchObject({ state: "RUNNING" });
  });

  it("a rep that answers 500: five attempts, then ActualLRPCannotBeStopped", async () => {
    await bbs.upsertCell("retire-cell-2", rep.url, 60);
    await bbs.start("retire-2", 0, "ig-2", "retire-cell-2");
    rep.respondWith(500);
    expect(errorOf((await bbs.retire("retire-2", 0)).body)).toEqual({ type: "ActualLRPCannotBeStopped", message: "cannot stop actual LRP" });
    expect(rep.requests).toHaveLength(5);
  });

  it("a cell whose presence expired: the instance is deleted and no rep is called", async () => {
    await bbs.upsertCell("retire-cell-3", rep.url, 1);
    await bbs.start("retire-3", 0, "ig-3", "retire-cell-3");
    await sleep(1100);
    expect(errorType(await bbs.retire("retire-3", 0))).toBeUndefined();
    expect(await instanceOf("retire-3")).toBeUndefined();
    expect(rep.requests).toEqual([]);
  });

  it("UNCLAIMED: deleted; missing: ResourceNotFound", async () => {
    await desired("retire-4");
    expect(errorType(await bbs.retire("retire-4", 0))).toBeUndefined();
    expect(await instanceOf("retire-4")).toBeUndefined();
    expect(errorType(await bbs.retire("retire-4", 0))).toBe("ResourceNotFound");
  });
});
