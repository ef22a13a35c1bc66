// The evacuation routes over HTTP against the local stack: keep_container on the wire (always
// emitted, also beside an error), the evacuating record and its TTL expiring in real time, and the
// auction asked of a recording auctioneer.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LocalStack } from "../../infra/local/stack";
import { post } from "../support/http-client";
import { startTestBBS } from "../support/local-bbs";
import { concat, errorOf, hex, pb } from "../support/proto-wire";
import { startRecorder, type Recorder } from "../support/recorder";
import { bbsClient, evacuationOf, groupOf, instanceMsg, keyMsg, sleep, wireValidationProblems, type BBSClient } from "./actual-lrp-wire";

let stack: LocalStack;
let bbs: BBSClient;
let auctioneer: Recorder;

beforeAll(async () => {
  auctioneer = await startRecorder();
  stack = await startTestBBS({ auctioneerURL: auctioneer.url });
  bbs = bbsClient(stack.url);
});

afterAll(async () => {
  await stack?.stop();
  await auctioneer?.close();
});

beforeEach(() => {
  auctioneer.requests.length = 0;
  auctioneer.respondWith(202);
});

/** Desires `guid`, then has cell-a claim and start index 0; the auction of the desire is forgotten. */
async function runningOnCellA(guid: string) {
  expect(errorOf((await bbs.desire(guid, 1)).body)).toBeUndefined();
  await auctioneer.waitFor(1);
  auctioneer.requests.length = 0;
  expect(errorOf((await bbs.claim(guid, 0, "ig-a", "cell-a")).body)).toBeUndefined();
  expect(errorOf((await bbs.start(guid, 0, "ig-a", "cell-a")).body)).toBeUndefined();
}

describe("actual_lrps/evacuate_running", () => {
  it("own RUNNING instance: keep true; evacuating record RUNNING (tag index 1) beside an UNCLAIMED, auctioned instance; it expires with its ttl", async () => {
    await runningOnCellA("evac-run-1");
    const ttlSeconds = 2;
    const sentAt = Date.now();
    const response = await bbs.evacuateRunning("evac-run-1", 0, "ig-a", "cell-a", ttlSeconds);
    expect(response.status).toBe(200);
    expect(hex(response.body)).toBe("1001");

    const group = await groupOf(bbs, "evac-run-1", 0);
    expect(group.instance).toMatchObject({ state: "UNCLAIMED", instanceGuid: "", address: "", tag: { index: 3 } });
    expect(group.evacuating).toMatchObject({ state: "RUNNING", instanceGuid: "ig-a", cellId: "cell-a", address: "10.0.0.1", tag: { index: 1 } });
    expect(group.evacuating!.tag.epoch).not.toBe(group.instance!.tag.epoch);
    expect(wireValidationProblems(group.evacuating!)).toEqual([]);
    await auctioneer.waitFor(1);
    expect(JSON.parse(auctioneer.requests[0]?.body ?? "[]")).toMatchObject([{ desired_lrp: { process_guid: "evac-run-1" }, indices: [0] }]);

    // Polled rather than slept, so a slow machine cannot make it flaky in either direction.
    let goneAt: number | undefined;
    while (goneAt === undefined && Date.now() - sentAt < 10_000) {
      if ((await groupOf(bbs, "evac-run-1", 0)).evacuating === undefined) goneAt = Date.now();
      else await sleep(100);
    }
    expect(goneAt).toBeDefined();
    expect(goneAt! - sentAt).toBeGreaterThanOrEqual(ttlSeconds * 1000);
    expect((await groupOf(bbs, "evac-run-1", 0)).instance?.state).toBe("UNCLAIMED");
  });

  it("UNCLAIMED instance: keep true with an evacuating record; a second cell then gets keep false; a placement error means keep false", async () => {
    expect(errorOf((await bbs.desire("evac-run-2", 1)).body)).toBeUndefined();
    expect(evacuationOf((await bbs.evacuateRunning("evac-run-2", 0, "ig-a", "cell-a", 60)).body)).toEqual({ keepContainer: true, error: undefined });
    expect(evacuationOf((await bbs.evacuateRunning("evac-run-2", 0, "ig-b", "cell-b", 60)).body)).toEqual({ keepContainer: false, error: undefined });
    expect((await groupOf(bbs, "evac-run-2", 0)).evacuating?.cellId).toBe("cell-a");

    await bbs.fail("evac-run-2", 0, "insufficient resources");
    expect(hex((await bbs.evacuateRunning("evac-run-2", 0, "ig-a", "cell-a", 60)).body)).toBe("1000");
    expect((await groupOf(bbs, "evac-run-2", 0)).evacuating).toBeUndefined();
  });

  it("an error travels with keep_container true: own instance under another domain gives ActualLRPCannotBeUnclaimed and writes nothing", async () => {
    await runningOnCellA("evac-run-3");
    const response = await bbs.evacuateRunning("evac-run-3", 0, "ig-a", "cell-a", 60, "10.0.0.1", "other-domain");
    expect(evacuationOf(response.body)).toEqual({ keepContainer: true, error: "ActualLRPCannotBeUnclaimed" });
    expect(hex(response.body).endsWith("1001")).toBe(true);
    const group = await groupOf(bbs, "evac-run-3", 0);
    expect(group.evacuating).toBeUndefined();
    expect(group.instance?.state).toBe("RUNNING");
  });

  it("missing instance: keep false; a request without net info: InvalidRequest", async () => {
    expect(hex((await bbs.evacuateRunning("evac-run-missing", 0, "ig-a", "cell-a", 60)).body)).toBe("1000");
    const noNet = await post(stack.url, "/v1/actual_lrps/evacuate_running", concat(pb.message(1, keyMsg("evac-run-4", 0)), pb.message(2, instanceMsg("ig-a", "cell-a"))));
    expect(errorOf(noNet.body)).toEqual({ type: "InvalidRequest", message: "Invalid field: actual_lrp_net_info" });
  });
});

describe("actual_lrps/evacuate_claimed", () => {
  it("own CLAIMED instance: keep false, UNCLAIMED again and auctioned; another cell's: ActualLRPCannotBeUnclaimed", async () => {
    expect(errorOf((await bbs.desire("evac-claimed-1", 1)).body)).toBeUndefined();
    await auctioneer.waitFor(1);
    auctioneer.requests.length = 0;
    await bbs.claim("evac-claimed-1", 0, "ig-a", "cell-a");
    expect(hex((await bbs.evacuateClaimed("evac-claimed-1", 0, "ig-a", "cell-a")).body)).toBe("1000");
    expect((await groupOf(bbs, "evac-claimed-1", 0)).instance).toMatchObject({ state: "UNCLAIMED", cellId: "" });
    await auctioneer.waitFor(1);

    await bbs.claim("evac-claimed-1", 0, "ig-b", "cell-b");
    expect(evacuationOf((await bbs.evacuateClaimed("evac-claimed-1", 0, "ig-a", "cell-a")).body)).toEqual({
      keepContainer: false,
      error: "ActualLRPCannotBeUnclaimed",
    });
  });
});

describe("actual_lrps/evacuate_stopped and evacuate_crashed", () => {
  it("stopped: the own instance and own evacuating record are removed; another cell's instance gives ActualLRPCannotBeRemoved", async () => {
    await runningOnCellA("evac-stopped-1");
    await bbs.evacuateRunning("evac-stopped-1", 0, "ig-a", "cell-a", 60);
    await bbs.claim("evac-stopped-1", 0, "ig-b", "cell-b");
    expect(evacuationOf((await bbs.evacuateStopped("evac-stopped-1", 0, "ig-a", "cell-a")).body)).toEqual({
      keepContainer: false,
      error: "ActualLRPCannotBeRemoved",
    });
    expect((await groupOf(bbs, "evac-stopped-1", 0)).evacuating).toBeUndefined();
    expect(hex((await bbs.evacuateStopped("evac-stopped-1", 0, "ig-b", "cell-b")).body)).toBe("1000");
    expect(await groupOf(bbs, "evac-stopped-1", 0)).toEqual({ instance: undefined, evacuating: undefined });
  });

  it("crashed: full crash semantics (UNCLAIMED, crash count 1, auction), keep false; missing: success", async () => {
    await runningOnCellA("evac-crashed-1");
    expect(hex((await bbs.evacuateCrashed("evac-crashed-1", 0, "ig-a", "cell-a", "out of memory")).body)).toBe("1000");
    expect((await groupOf(bbs, "evac-crashed-1", 0)).instance).toMatchObject({ state: "UNCLAIMED", crashCount: 1, crashReason: "out of memory" });
    await auctioneer.waitFor(1);
    expect(evacuationOf((await bbs.evacuateCrashed("evac-crashed-1", 0, "ig-a", "cell-a")).body)).toEqual({
      keepContainer: false,
      error: "ActualLRPCannotBeCrashed",
    });
    expect(hex((await bbs.evacuateCrashed("evac-crashed-missing", 0, "ig-a", "cell-a")).body)).toBe("1000");
  });
});

describe("actual_lrps/remove_evacuating", () => {
  it("removes only the cell's own evacuating record; missing is success", async () => {
    expect(errorOf((await bbs.desire("evac-remove-1", 1)).body)).toBeUndefined();
    await bbs.evacuateRunning("evac-remove-1", 0, "ig-a", "cell-a", 60);
    expect(errorOf((await bbs.removeEvacuating("evac-remove-1", 0, "ig-b", "cell-b")).body)).toEqual({
      type: "ActualLRPCannotBeRemoved",
      message: "cannot remove actual LRP",
    });
    const removed = await bbs.removeEvacuating("evac-remove-1", 0, "ig-a", "cell-a");
    expect(removed.body.length).toBe(0);
    expect((await groupOf(bbs, "evac-remove-1", 0)).evacuating).toBeUndefined();
    expect((await bbs.removeEvacuating("evac-remove-1", 0, "ig-a", "cell-a")).body.length).toBe(0);
  });
});
