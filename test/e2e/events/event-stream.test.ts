// GET /v1/events end to end against the local stack: real writes through the routes (or straight into
// the table), DynamoDB Local's stream, the stream consumer, the event log, and the streaming handler
// behind the awslambda shim, read by an SSE client that shares no code with the server.
import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeActualLRP } from "../../../core/actual-lrps";
import { EventLog } from "../../../core/events/event-log";
import { ActualLRPSchema } from "../../../core/gen/models/actual_lrp_pb";
import { actualLRPKey, emptyInstanceKey, emptyNetInfo, newModificationTag } from "../../../core/models/actual-lrp";
import { DynamoStore } from "../../../core/store/dynamo-store";
import { actualLRPInstanceKey } from "../../../core/store/keys";
import type { LocalStack } from "../../../infra/local/stack";
import { post, send } from "../../support/http-client";
import { testClient } from "../../support/dynamo";
import { startTestBBS } from "../../support/local-bbs";
import { concat, errorOf, pb } from "../../support/proto-wire";
import { connectSSE, decodeFrame, type SSEConnection, type SSEFrame } from "../../support/sse-client";

let bbs: LocalStack;
let store: DynamoStore;
const open: SSEConnection[] = [];

beforeAll(async () => {
  bbs = await startTestBBS();
  // The stack runs on the test run's DynamoDB Local, so the shared test client reaches its table.
  store = new DynamoStore({ client: testClient().client, tableName: bbs.tableName });
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

afterAll(async () => {
  await bbs?.stop();
});

async function subscribe(headers: Record<string, string> = {}): Promise<SSEConnection> {
  const connection = await connectSSE(`${bbs.url}/v1/events`, headers);
  open.push(connection);
  return connection;
}

const runAction = pb.message(3, pb.string(1, "/bin/sleep"), pb.string(2, "100"), pb.string(6, "vcap"));
const routes = pb.message(1, pb.string(1, "cf-router"), pb.string(2, '[{"hostnames":["app.example.com"],"port":8080}]'));
const desiredLRP = (guid: string, instances: number, domain = "cf-apps") =>
  concat(
    pb.string(1, guid),
    pb.string(2, domain),
    pb.string(3, "docker:///cloudfoundry/grace"),
    pb.varint(4, instances),
    pb.message(7, runAction),
    pb.bytes(15, routes),
  );
const lrpKey = (guid: string, index: number, domain = "cf-apps") => concat(pb.string(1, guid), pb.varint(2, index), pb.string(3, domain));
const instanceKey = (instanceGuid: string, cellId: string) => concat(pb.string(1, instanceGuid), pb.string(2, cellId));
const netInfo = (address: string) => concat(pb.string(1, address), pb.message(2, pb.varint(1, 8080), pb.varint(2, 61001)));

async function ok(path: string, body: Uint8Array) {
  const response = await post(bbs.url, path, body);
  expect(response.status).toBe(200);
  expect(errorOf(response.body)).toBeUndefined();
  return response;
}

const guids = new WeakMap<SSEFrame, string | undefined>();

/** The process guid an event is about (relist events have none). */
function guidOf(frame: SSEFrame): string | undefined {
  if (guids.has(frame)) return guids.get(frame);
  const e = decodeFrame(frame) as Record<string, any>;
  const group = e.after ?? e.group;
  const guid = (group?.instance ?? group?.evacuating)?.processGuid ?? e.desired?.processGuid ?? e.afterDesired?.processGuid;
  guids.set(frame, guid);
  return guid;
}

/**
 * The first `count` frames about process guids starting with `prefix`. A new subscriber starts at the
 * log's head, so events of earlier tests still on their way can precede the ones a test waits for.
 */
async function framesAbout(events: SSEConnection, prefix: string, count: number, timeoutMs = 10_000): Promise<SSEFrame[]> {
  const mine = () => events.frames.filter((f) => guidOf(f)?.startsWith(prefix));
  await events.waitFor(() => mine().length >= count, timeoutMs);
  return mine().slice(0, count);
}

/** What the test compares: type plus the state of each slot present. */
function summary(frame: SSEFrame) {
  const e = decodeFrame(frame) as Record<string, any>;
  const slot = (g: any) =>
    g && {
      ...(g.instance ? { instance: `${g.instance.state}@${g.instance.cellId}` } : {}),
      ...(g.evacuating ? { evacuating: `${g.evacuating.state}@${g.evacuating.cellId}` } : {}),
    };
  switch (e.type) {
    case "actual_lrp_changed":
      return { type: e.type, before: slot(e.before), after: slot(e.after) };
    case "actual_lrp_created":
    case "actual_lrp_removed":
      return { type: e.type, group: slot(e.group) };
    default:
      return { type: e.type, guid: e.desired?.processGuid ?? e.afterDesired?.processGuid };
  }
}

describe("GET /v1/events", () => {
  it("answers 200 with the SSE headers at once and frames each event as id/event/data with LF endings", async () => {
    const events = await subscribe({ "X-CF-RequestID": "0b7a1c2e-5f1d-4d7e-9c3b-2a6f8e9d0c1b" });
    expect(events.status).toBe(200);
    expect(events.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(events.headers["cache-control"]).toBe("no-cache, no-store, must-revalidate");
    expect(events.headers["connection"]).toBe("keep-alive");
    expect(events.headers["x-cf-requestid"]).toBe("0b7a1c2e-5f1d-4d7e-9c3b-2a6f8e9d0c1b");
    expect(events.headers["transfer-encoding"]).toBe("chunked");

    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP("frames-1", 1)));
    const [desired, actual] = await events.waitForFrames(2);
    for (const frame of [desired!, actual!]) {
      expect(frame.raw).toMatch(/^id: \d+\nevent: [a-z_]+\ndata: [A-Za-z0-9+/]+={0,2}\n\n$/);
      expect(Buffer.from(frame.data, "base64").toString("base64")).toBe(frame.data); // standard alphabet, padded
    }
    expect(Number(actual!.id)).toBe(Number(desired!.id) + 1);
    expect(decodeFrame(desired!)).toMatchObject({ type: "desired_lrp_created", desired: { processGuid: "frames-1", domain: "cf-apps", instances: 1 } });
    expect(decodeFrame(actual!)).toMatchObject({
      type: "actual_lrp_created",
      group: { instance: { processGuid: "frames-1", index: 0, domain: "cf-apps", state: "UNCLAIMED" } },
    });
    expect(events.text().includes("\r")).toBe(false);
  });

  it("answers HEAD with the headers and no body", async () => {
    const head = await send(`${bbs.url}/v1/events`, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(head.body.length).toBe(0);
  });

  it("tells the life of an LRP: desire, claim, start, crash, restart, evacuate, remove", async () => {
    const events = await subscribe();
    const guid = "life-1";
    const key = lrpKey(guid, 0);
    const cell1 = instanceKey("ig-1", "cell-1");
    const cell2 = instanceKey("ig-2", "cell-2");

    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP(guid, 1)));
    await ok("/v1/actual_lrps/claim", concat(pb.string(1, guid), pb.varint(2, 0), pb.message(3, cell1)));
    await ok("/v1/actual_lrps/start", concat(pb.message(1, key), pb.message(2, cell1), pb.message(3, netInfo("10.0.0.1"))));
    await ok("/v1/actual_lrps/crash", concat(pb.message(1, key), pb.message(2, cell1), pb.string(3, "boom")));
    await ok("/v1/actual_lrps/claim", concat(pb.string(1, guid), pb.varint(2, 0), pb.message(3, cell1)));
    await ok("/v1/actual_lrps/start", concat(pb.message(1, key), pb.message(2, cell1), pb.message(3, netInfo("10.0.0.1"))));
    await ok("/v1/actual_lrps/evacuate_running", concat(pb.message(1, key), pb.message(2, cell1), pb.message(3, netInfo("10.0.0.1")), pb.varint(4, 60)));
    await ok("/v1/actual_lrps/claim", concat(pb.string(1, guid), pb.varint(2, 0), pb.message(3, cell2)));
    await ok("/v1/actual_lrps/start", concat(pb.message(1, key), pb.message(2, cell2), pb.message(3, netInfo("10.0.0.2"))));
    await ok("/v1/actual_lrps/remove_evacuating", concat(pb.message(1, key), pb.message(2, cell1)));
    await ok("/v1/actual_lrps/remove", concat(pb.string(1, guid), pb.varint(2, 0)));
    await ok("/v1/desired_lrp/remove", pb.string(1, guid));

    const frames = await framesAbout(events, guid, 13);
    expect(frames.map(summary)).toEqual([
      { type: "desired_lrp_created", guid },
      { type: "actual_lrp_created", group: { instance: "UNCLAIMED@" } },
      { type: "actual_lrp_changed", before: { instance: "UNCLAIMED@" }, after: { instance: "CLAIMED@cell-1" } },
      { type: "actual_lrp_changed", before: { instance: "CLAIMED@cell-1" }, after: { instance: "RUNNING@cell-1" } },
      // The first crash restarts at once: back to UNCLAIMED, crash count kept.
      { type: "actual_lrp_changed", before: { instance: "RUNNING@cell-1" }, after: { instance: "UNCLAIMED@" } },
      { type: "actual_lrp_changed", before: { instance: "UNCLAIMED@" }, after: { instance: "CLAIMED@cell-1" } },
      { type: "actual_lrp_changed", before: { instance: "CLAIMED@cell-1" }, after: { instance: "RUNNING@cell-1" } },
      // Evacuation: the evacuating record appears first, then the instance is unclaimed for a new home.
      { type: "actual_lrp_created", group: { evacuating: "RUNNING@cell-1" } },
      { type: "actual_lrp_changed", before: { instance: "RUNNING@cell-1" }, after: { instance: "UNCLAIMED@" } },
      { type: "actual_lrp_changed", before: { instance: "UNCLAIMED@" }, after: { instance: "CLAIMED@cell-2" } },
      { type: "actual_lrp_changed", before: { instance: "CLAIMED@cell-2" }, after: { instance: "RUNNING@cell-2" } },
      { type: "actual_lrp_removed", group: { evacuating: "RUNNING@cell-1" } },
      { type: "actual_lrp_removed", group: { instance: "RUNNING@cell-2" } },
    ]);
    const crashed = decodeFrame(frames[4]!) as any;
    expect(crashed.after.instance.crashCount).toBe(1);
    const last = await framesAbout(events, guid, 14);
    expect(summary(last[13]!)).toEqual({ type: "desired_lrp_removed", guid });
    const ids = last.map((f) => Number(f.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("reports a desired LRP update as changed with before and after", async () => {
    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP("update-1", 0)));
    const events = await subscribe();
    await ok("/v1/desired_lrp/update", concat(pb.string(1, "update-1"), pb.message(2, pb.string(3, "new annotation"))));
    // The created event may still be on its way when the subscription starts.
    const changed = await events.waitFor((f) => f.event === "desired_lrp_changed" && guidOf(f) === "update-1");
    expect(decodeFrame(changed)).toMatchObject({
      type: "desired_lrp_changed",
      beforeDesired: { processGuid: "update-1", annotation: "" },
      afterDesired: { processGuid: "update-1", annotation: "new annotation" },
    });
  });

  it("reports an evacuating record that expires as actual_lrp_removed carrying only the evacuating slot", async () => {
    const guid = "expire-1";
    const key = lrpKey(guid, 0);
    const cell1 = instanceKey("ig-x", "cell-x");
    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP(guid, 1)));
    await ok("/v1/actual_lrps/claim", concat(pb.string(1, guid), pb.varint(2, 0), pb.message(3, cell1)));
    await ok("/v1/actual_lrps/start", concat(pb.message(1, key), pb.message(2, cell1), pb.message(3, netInfo("10.0.0.9"))));
    const events = await subscribe();
    await ok("/v1/actual_lrps/evacuate_running", concat(pb.message(1, key), pb.message(2, cell1), pb.message(3, netInfo("10.0.0.9")), pb.varint(4, 1)));
    const evacuated = await framesAbout(events, guid, 2, 10_000).catch(() => []);
    // created(evacuating), changed(instance → UNCLAIMED); claim/start may also still be on their way.
    expect(evacuated.length).toBe(2);
    await new Promise((r) => setTimeout(r, 1_100));
    // What the deployed sweeper (or DynamoDB's TTL) does once the TTL has passed.
    expect(await store.sweepExpired()).toBeGreaterThanOrEqual(1);
    const removedFrame = await events.waitFor((f) => f.event === "actual_lrp_removed" && guidOf(f) === guid);
    expect(summary(removedFrame)).toEqual({ type: "actual_lrp_removed", group: { evacuating: "RUNNING@cell-x" } });
    const removed = decodeFrame(removedFrame) as any;
    expect(removed.group.instance).toBeUndefined();
    expect(removed.fieldCount).toEqual([1]);
  });
});

describe("resuming with Last-Event-ID", () => {
  /** 50 instances × (create, 8 updates, delete), written straight into the table, each key in order. */
  async function writeChanges(prefix: string): Promise<void> {
    await Promise.all(
      Array.from({ length: 50 }, async (_, k) => {
        const guid = `${prefix}-${k}`;
        const path = actualLRPInstanceKey(guid, 0);
        const lrp = (step: number) =>
          create(ActualLRPSchema, {
            actualLrpKey: actualLRPKey(guid, 0, "cf-apps"),
            actualLrpInstanceKey: emptyInstanceKey(),
            actualLrpNetInfo: emptyNetInfo(),
            state: "UNCLAIMED",
            since: BigInt(step),
            modificationTag: newModificationTag(),
          });
        let node = await store.create(path, encodeActualLRP(lrp(0)));
        for (let step = 1; step <= 8; step++) node = await store.compareAndSwap(path, encodeActualLRP(lrp(step)), node.version);
        await store.delete(path);
      }),
    );
  }

  /** Per key: the `since` steps in the order they arrived. */
  function stepsByKey(frames: SSEFrame[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const frame of frames) {
      const e = decodeFrame(frame) as any;
      const lrp = (e.after ?? e.group)?.instance;
      const label = e.type === "actual_lrp_removed" ? `removed${lrp.since}` : String(lrp.since);
      out.set(lrp.processGuid, [...(out.get(lrp.processGuid) ?? []), label]);
    }
    return out;
  }

  it("delivers all 500 changes made while the subscriber was away, in per-key order, without duplicates", async () => {
    const first = await subscribe();
    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP("resume-marker", 0)));
    const [marker] = await framesAbout(first, "resume-marker", 1);
    first.close();

    const watcher = await subscribe(); // sees everything live: the reference
    const writes = writeChanges("resume");
    await framesAbout(watcher, "resume-", 100, 90_000);
    // Reconnect while the changes are still being made: the replay and the live tail must join up.
    const resumed = await subscribe({ "Last-Event-ID": marker!.id! });
    await writes;

    const reference = await framesAbout(watcher, "resume-", 500, 120_000);
    const replayed = await framesAbout(resumed, "resume-", 500, 60_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(resumed.frames).toHaveLength(500); // nothing else, and nothing twice

    const ids = replayed.map((f) => Number(f.id));
    expect(new Set(ids).size).toBe(500);
    expect(ids[0]).toBe(Number(marker!.id) + 1);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Same ids for the same events on both connections: ids survive reconnection.
    expect(replayed.map((f) => `${f.id} ${f.event} ${f.data}`)).toEqual(reference.map((f) => `${f.id} ${f.event} ${f.data}`));

    const steps = stepsByKey(replayed);
    expect(steps.size).toBe(50);
    for (const sequence of steps.values()) expect(sequence).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "removed8"]);
    expect(replayed.filter((f) => f.event === "actual_lrp_created")).toHaveLength(50);
    expect(replayed.filter((f) => f.event === "actual_lrp_changed")).toHaveLength(400);
    expect(replayed.filter((f) => f.event === "actual_lrp_removed")).toHaveLength(50);
  }, 300_000);

  it("answers an id older than what is retained with a relist event, then carries on after the head", async () => {
    const events = await subscribe();
    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP("retention-1", 0)));
    const [old] = await framesAbout(events, "retention-1", 1);
    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP("retention-2", 0)));
    const [newer] = await framesAbout(events, "retention-2", 1);

    // Age the entry past the retention: rewrite it as if it had been logged 25 hours ago.
    const log = new EventLog(store);
    const entry = await store.get(log.entryKey(Number(old!.id)));
    const past = new DynamoStore({
      client: testClient().client,
      tableName: bbs.tableName,
      clock: { nowMs: () => Date.now() - 25 * 3600_000, nowNs: () => BigInt(Date.now() - 25 * 3600_000) * 1_000_000n },
    });
    await past.set(entry.key, entry.value, { ttlSeconds: 24 * 3600 });

    const stale = await subscribe({ "Last-Event-ID": old!.id! });
    const [relist] = await stale.waitForFrames(1);
    expect(relist!.event).toBe("relist");
    expect(relist!.raw).toMatch(/^id: \d+\nevent: relist\ndata: [A-Za-z0-9+/]+={0,2}\n\n$/);
    expect(Number(relist!.id)).toBeGreaterThanOrEqual(Number(newer!.id));
    expect(decodeFrame(relist!)).toMatchObject({ type: "relist", errorType: "RelistRequired" });

    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP("retention-3", 0)));
    const [next] = await framesAbout(stale, "retention-3", 1);
    expect(decodeFrame(next!)).toMatchObject({ type: "desired_lrp_created", desired: { processGuid: "retention-3" } });
    expect(Number(next!.id)).toBeGreaterThan(Number(relist!.id));

    // A newer, still retained id resumes normally.
    const fine = await subscribe({ "Last-Event-ID": newer!.id! });
    const resumed = await fine.waitForFrames(1);
    expect(resumed[0]!.event).not.toBe("relist");
  });

  it("answers an id it never handed out, or no id at all, with a relist", async () => {
    for (const id of ["999999999", "not-an-id", "-1"]) {
      const events = await subscribe({ "Last-Event-ID": id });
      const [relist] = await events.waitForFrames(1);
      expect(relist!.event).toBe("relist");
      events.close();
    }
    // An empty Last-Event-ID (what go-sse sends on its first connect) starts from now, without relist.
    const fresh = await subscribe({ "Last-Event-ID": "" });
    await ok("/v1/desired_lrp/desire", pb.message(1, desiredLRP("fresh-1", 0)));
    const [created] = await framesAbout(fresh, "fresh-1", 1);
    expect(created!.event).toBe("desired_lrp_created");
  });
});

