// The wire and the routes of the BBS over HTTP against the local stack, speaking protobuf bytes built
// by field number (test/support/proto-wire.ts), independently of the server's codec.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LocalStack } from "../../infra/local/stack";
import { post, send } from "../support/http-client";
import { startTestBBS } from "../support/local-bbs";
import { all, concat, errorOf, first, fromHex, hex, int32, num, pb, readFields, str, sub } from "../support/proto-wire";
import { startRecorder, type Recorder } from "../support/recorder";

let bbs: LocalStack;
let auctioneer: Recorder;

beforeAll(async () => {
  auctioneer = await startRecorder();
  bbs = await startTestBBS({ auctioneerURL: auctioneer.url });
});

afterAll(async () => {
  await bbs?.stop();
  await auctioneer?.close();
});

beforeEach(() => {
  auctioneer.requests.length = 0;
  auctioneer.respondWith(202);
});

const runAction = pb.message(3, pb.string(1, "/bin/sleep"), pb.string(2, "100"), pb.string(6, "vcap"));
const protoRoutes = (entries: Record<string, string>) =>
  concat(...Object.entries(entries).map(([k, v]) => pb.message(1, pb.string(1, k), pb.string(2, v))));

function desiredLRP(guid: string, instances: number, domain = "cf-apps", extra: Uint8Array[] = []) {
  return concat(
    pb.string(1, guid),
    pb.string(2, domain),
    pb.string(3, "docker:///cloudfoundry/grace"),
    pb.varint(4, instances),
    pb.message(7, runAction),
    pb.bytes(15, protoRoutes({ "cf-router": '[{"hostnames":["grace.example.com"],"port":8080}]' })),
    ...extra,
  );
}

const desire = (lrp: Uint8Array) => post(bbs.url, "/v1/desired_lrp/desire", pb.message(1, lrp));
const getDesired = (guid: string) => post(bbs.url, "/v1/desired_lrps/get_by_process_guid", pb.string(1, guid));
const groupsByGuid = (guid: string) => post(bbs.url, "/v1/actual_lrp_groups/list_by_process_guid", pb.string(1, guid));
const update = (guid: string, ...parts: Uint8Array[]) => post(bbs.url, "/v1/desired_lrp/update", concat(pb.string(1, guid), pb.message(2, ...parts)));

/** Instance indices and states of the groups in an ActualLRPGroupsResponse. */
function instancesOf(body: Uint8Array) {
  return all(readFields(body), 2).map((g) => {
    const instance = sub(first(sub(g), 1));
    const key = sub(first(instance, 1));
    return { processGuid: str(first(key, 1)), index: int32(first(key, 2)) ?? 0, domain: str(first(key, 3)), state: str(first(instance, 6)) };
  });
}

describe("the HTTP envelope", () => {
  it("answers an unknown path with 404 and a known path with another method with 405 and Allow", async () => {
    const missing = await post(bbs.url, "/v1/nope");
    expect(missing.status).toBe(404);
    expect(missing.text).toBe("404 page not found\n");
    expect((await post(bbs.url, "/v1/domains/list/")).status).toBe(404);
    const wrongMethod = await send(`${bbs.url}/v1/domains/list`, "GET");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe("POST");
    const wrongOnGet = await send(`${bbs.url}/v1/tasks/get_by_task_guid`, "POST");
    expect(wrongOnGet.status).toBe(405);
    expect(String(wrongOnGet.headers.allow).split(", ").sort()).toEqual(["GET", "HEAD"]);
  });

  it("puts an X-Cf-Requestid on every response, echoing a UUID the caller sent", async () => {
    const id = "0b7a1c2e-5f1d-4d7e-9c3b-2a6f8e9d0c1b";
    const echoed = await post(bbs.url, "/v1/domains/list", undefined, { "X-CF-RequestID": id });
    expect(echoed.headers["x-cf-requestid"]).toBe(id);
    const fresh = await post(bbs.url, "/v1/domains/list", undefined, { "X-CF-RequestID": "not-a-uuid" });
    expect(fresh.headers["x-cf-requestid"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await post(bbs.url, "/v1/nope")).headers["x-cf-requestid"]).toBeDefined();
  });

  it("answers a body that does not decode with InvalidRequest in an HTTP 200 protobuf body", async () => {
    const response = await post(bbs.url, "/v1/desired_lrp/desire", Uint8Array.from([0x0a, 0xff, 0xff]));
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/x-protobuf");
    expect(hex(response.body)).toBe(hex(concat(pb.message(1, pb.string(1, "InvalidRequest"), pb.string(2, "the request received is invalid")))));
  });

  it("refuses a body over the 1 MiB limit with InvalidRequest", async () => {
    const huge = pb.string(1, "x".repeat(1024 * 1024 + 1));
    const response = await post(bbs.url, "/v1/desired_lrps/get_by_process_guid", huge);
    expect(response.status).toBe(200);
    expect(errorOf(response.body)).toEqual({ type: "InvalidRequest", message: "the request body exceeds the limit of 1048576 bytes" });
  });

  it("gives validation failures their exact text, in order", async () => {
    const noLRP = await post(bbs.url, "/v1/desired_lrp/desire", new Uint8Array(0));
    expect(errorOf(noLRP.body)).toEqual({ type: "InvalidRequest", message: "Invalid field: desired_lrp" });
    const bad = await post(bbs.url, "/v1/actual_lrp_groups/get_by_process_guid_and_index", pb.varint(2, -1));
    expect(errorOf(bad.body)).toEqual({ type: "InvalidRequest", message: "Invalid field: process_guid, Invalid field: index" });
  });

  it("reads the protobuf body of the GET route and answers the exact bytes of wire §11", async () => {
    const empty = await send(`${bbs.url}/v1/tasks/get_by_task_guid`, "GET", new Uint8Array(0));
    expect(hex(empty.body)).toBe("0a2a0a0e496e76616c696452657175657374121" + "8" + Buffer.from("Invalid field: task_guid").toString("hex"));
    const missing = await send(`${bbs.url}/v1/tasks/get_by_task_guid`, "GET", fromHex("0a03616263"));
    expect(hex(missing.body)).toBe(
      hex(fromHex("0a3d0a10")) + Buffer.from("ResourceNotFound").toString("hex") + "1229" + Buffer.from("the requested resource could not be found").toString("hex"),
    );
  });
});

describe("domains", () => {
  it("upserts and lists domains; a ttl expires the domain and ttl 0 never does", async () => {
    const upserted = await post(bbs.url, "/v1/domains/upsert", concat(pb.string(1, "cf-apps"), pb.varint(2, 0)));
    expect(upserted.status).toBe(200);
    expect(upserted.body.length).toBe(0);
    await post(bbs.url, "/v1/domains/upsert", concat(pb.string(1, "short-lived"), pb.varint(2, 1)));
    const listed = await post(bbs.url, "/v1/domains/list");
    expect(all(readFields(listed.body), 2).map(str).sort()).toEqual(["cf-apps", "short-lived"]);
    await new Promise((r) => setTimeout(r, 1500));
    const later = await post(bbs.url, "/v1/domains/list");
    expect(all(readFields(later.body), 2).map(str)).toEqual(["cf-apps"]);
  });

  it("rejects an empty domain", async () => {
    const response = await post(bbs.url, "/v1/domains/upsert", concat(pb.string(1, ""), pb.varint(2, 0)));
    expect(errorOf(response.body)).toEqual({ type: "InvalidRequest", message: "Invalid field: domain" });
  });
});

describe("desired LRPs", () => {
  it("desires an LRP: stores it with a server-set modification tag, creates UNCLAIMED instances and auctions them", async () => {
    const clientTag = pb.message(21, pb.string(1, "client-epoch"), pb.varint(2, 9));
    const response = await desire(desiredLRP("web-1", 2, "cf-apps", [clientTag]));
    expect(response.status).toBe(200);
    expect(errorOf(response.body)).toBeUndefined();

    const stored = sub(first(readFields((await getDesired("web-1")).body), 2));
    expect(str(first(stored, 1))).toBe("web-1");
    const tag = sub(first(stored, 21));
    expect(str(first(tag, 1))).toMatch(/^[0-9a-f-]{36}$/);
    expect(num(first(tag, 2))).toBe(0n);
    const routes = sub(first(stored, 15));
    expect(str(first(sub(first(routes, 1)), 2))).toBe('[{"hostnames":["grace.example.com"],"port":8080}]');

    expect(instancesOf((await groupsByGuid("web-1")).body)).toEqual([
      { processGuid: "web-1", index: 0, domain: "cf-apps", state: "UNCLAIMED" },
      { processGuid: "web-1", index: 1, domain: "cf-apps", state: "UNCLAIMED" },
    ]);
    const [auction] = await auctioneer.waitFor(1);
    expect(auction?.path).toBe("/v1/lrps");
    expect(auction?.headers["content-type"]).toBe("application/json");
    const starts = JSON.parse(auction?.body ?? "[]");
    expect(starts).toHaveLength(1);
    expect(starts[0].indices).toEqual([0, 1]);
    expect(starts[0].desired_lrp.process_guid).toBe("web-1");
    expect(starts[0].desired_lrp.rootfs).toBe("docker:///cloudfoundry/grace");
  });

  it("desires an LRP that has no routes at all", async () => {
    const lrp = concat(pb.string(1, "web-noroutes"), pb.string(2, "cf-apps"), pb.string(3, "docker:///x"), pb.varint(4, 1), pb.message(7, runAction));
    expect(errorOf((await desire(lrp)).body)).toBeUndefined();
    expect(errorOf((await update("web-noroutes", pb.varint(1, 2))).body)).toBeUndefined();
    const stored = sub(first(readFields((await getDesired("web-noroutes")).body), 2));
    expect(first(stored, 15)).toBeUndefined();
    expect(int32(first(stored, 4))).toBe(2);
  });

  it("refuses a second desire of the same process guid with ResourceExists", async () => {
    await desire(desiredLRP("web-dup", 1));
    const again = await desire(desiredLRP("web-dup", 1));
    expect(errorOf(again.body)).toEqual({ type: "ResourceExists", message: "the requested resource already exists" });
  });

  it("refuses route values that are not JSON with InvalidJSON", async () => {
    const lrp = concat(
      pb.string(1, "web-badroute"), pb.string(2, "cf-apps"), pb.string(3, "docker:///x"), pb.varint(4, 1), pb.message(7, runAction),
      pb.bytes(15, protoRoutes({ "cf-router": "{not json" })),
    );
    expect(errorOf((await desire(lrp)).body)).toEqual({ type: "InvalidJSON", message: "could not serialize JSON" });
  });

  it("lists desired LRPs, filtered by domain", async () => {
    await desire(desiredLRP("list-a", 0, "domain-a"));
    await desire(desiredLRP("list-b", 0, "domain-b"));
    const filtered = await post(bbs.url, "/v1/desired_lrps/list", pb.string(1, "domain-a"));
    expect(all(readFields(filtered.body), 2).map((d) => str(first(sub(d), 1)))).toEqual(["list-a"]);
    const everything = await post(bbs.url, "/v1/desired_lrps/list", pb.string(1, ""));
    const guids = all(readFields(everything.body), 2).map((d) => str(first(sub(d), 1)));
    expect(guids).toEqual(expect.arrayContaining(["list-a", "list-b"]));
  });

  it("gives every one of many concurrent list requests its own complete body", async () => {
    // List bodies are written into one buffer the process reuses: neither a longer body written
    // meanwhile nor a shorter one may show through.
    for (let i = 0; i < 12; i++) await desire(desiredLRP(`many-${String(i).padStart(2, "0")}`, 0, i % 3 === 0 ? "domain-many" : "domain-other"));
    const requests = [
      ["/v1/desired_lrps/list", pb.string(1, "domain-many")],
      ["/v1/desired_lrps/list", pb.string(1, "")],
      ["/v1/desired_lrps/list", pb.string(1, "domain-other")],
      ["/v1/actual_lrp_groups/list", concat(pb.string(1, ""), pb.string(2, ""))],
      ["/v1/tasks/list", pb.string(1, "")],
    ] as const;
    const alone: string[] = [];
    for (const [path, body] of requests) alone.push(Buffer.from((await post(bbs.url, path, body)).body).toString("hex"));
    expect(alone[0]!.length).toBeLessThan(alone[1]!.length);
    const together = await Promise.all(Array.from({ length: 30 }, (_, i) => post(bbs.url, requests[i % requests.length]![0], requests[i % requests.length]![1])));
    together.forEach((response, i) => expect(Buffer.from(response.body).toString("hex")).toBe(alone[i % requests.length]));
  });

  it("answers ResourceNotFound for an unknown process guid", async () => {
    expect(errorOf((await getDesired("nobody")).body)?.type).toBe("ResourceNotFound");
    expect(errorOf((await update("nobody", pb.varint(1, 3))).body)?.type).toBe("ResourceNotFound");
    expect(errorOf((await post(bbs.url, "/v1/desired_lrp/remove", pb.string(1, "nobody"))).body)?.type).toBe("ResourceNotFound");
  });

  it("scales up (auctioning only the new indices) and down (retiring the extra ones), bumping the tag", async () => {
    await desire(desiredLRP("web-scale", 2));
    await auctioneer.waitFor(1);
    auctioneer.requests.length = 0;

    expect(errorOf((await update("web-scale", pb.varint(1, 4))).body)).toBeUndefined();
    const [auction] = await auctioneer.waitFor(1);
    expect(JSON.parse(auction?.body ?? "[]")[0].indices).toEqual([2, 3]);
    expect(instancesOf((await groupsByGuid("web-scale")).body).map((g) => g.index)).toEqual([0, 1, 2, 3]);
    const tag = sub(first(sub(first(readFields((await getDesired("web-scale")).body), 2)), 21));
    expect(num(first(tag, 2))).toBe(1n);

    expect(errorOf((await update("web-scale", pb.varint(1, 1))).body)).toBeUndefined();
    expect(instancesOf((await groupsByGuid("web-scale")).body).map((g) => g.index)).toEqual([0]);
  });

  it("updates routes and annotation without touching instances", async () => {
    await desire(desiredLRP("web-routes", 1));
    const response = await update("web-routes", pb.bytes(2, protoRoutes({ "tcp-router": '[{"port":1234}]' })), pb.string(3, "new note"));
    expect(errorOf(response.body)).toBeUndefined();
    const stored = sub(first(readFields((await getDesired("web-routes")).body), 2));
    expect(str(first(stored, 19))).toBe("new note");
    const entries = all(sub(first(stored, 15)), 1).map((e) => str(first(sub(e), 1)));
    expect(entries).toEqual(["tcp-router"]);
    expect(instancesOf((await groupsByGuid("web-routes")).body)).toHaveLength(1);
  });

  it("removes the desired LRP and retires its instances", async () => {
    await desire(desiredLRP("web-gone", 2));
    expect(errorOf((await post(bbs.url, "/v1/desired_lrp/remove", pb.string(1, "web-gone"))).body)).toBeUndefined();
    expect(errorOf((await getDesired("web-gone")).body)?.type).toBe("ResourceNotFound");
    expect(instancesOf((await groupsByGuid("web-gone")).body)).toEqual([]);
  });
});

describe("actual LRP groups", () => {
  it("lists groups filtered by domain, gets one by index, and answers ResourceNotFound for a missing index", async () => {
    await desire(desiredLRP("groups-a", 2, "groups-domain"));
    await desire(desiredLRP("groups-b", 1, "other-domain"));
    const filtered = await post(bbs.url, "/v1/actual_lrp_groups/list", concat(pb.string(1, "groups-domain"), pb.string(2, "")));
    expect(instancesOf(filtered.body).map((g) => `${g.processGuid}/${g.index}`)).toEqual(["groups-a/0", "groups-a/1"]);
    const byCell = await post(bbs.url, "/v1/actual_lrp_groups/list", concat(pb.string(1, ""), pb.string(2, "cell-nobody")));
    expect(instancesOf(byCell.body)).toEqual([]);
    const one = await post(bbs.url, "/v1/actual_lrp_groups/get_by_process_guid_and_index", concat(pb.string(1, "groups-a"), pb.varint(2, 1)));
    const instance = sub(first(sub(first(readFields(one.body), 2)), 1));
    expect(int32(first(sub(first(instance, 1)), 2))).toBe(1);
    expect(str(first(instance, 6))).toBe("UNCLAIMED");
    const none = await post(bbs.url, "/v1/actual_lrp_groups/get_by_process_guid_and_index", concat(pb.string(1, "groups-a"), pb.varint(2, 7)));
    expect(errorOf(none.body)?.type).toBe("ResourceNotFound");
  });
});

describe("tasks", () => {
  const definition = pb.message(1, pb.string(1, "docker:///busybox"), pb.message(3, runAction), pb.string(12, ""));
  const desireTask = (guid: string, domain = "tasks-domain") =>
    post(bbs.url, "/v1/tasks/desire", concat(definition, pb.string(2, guid), pb.string(3, domain)));

  it("desires a task Pending with created_at = updated_at in ns, auctions it, and reads it back", async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    expect(errorOf((await desireTask("task-1")).body)).toBeUndefined();
    const [auction] = await auctioneer.waitFor(1);
    expect(auction?.path).toBe("/v1/tasks");
    expect(JSON.parse(auction?.body ?? "[]")[0]).toMatchObject({ task_guid: "task-1", domain: "tasks-domain", state: "Pending" });

    const got = await send(`${bbs.url}/v1/tasks/get_by_task_guid`, "GET", pb.string(1, "task-1"));
    const task = sub(first(readFields(got.body), 2));
    expect(str(first(task, 2))).toBe("task-1");
    expect(num(first(task, 7))).toBe(1n);
    const createdAt = num(first(task, 4)) ?? 0n;
    expect(createdAt).toBeGreaterThanOrEqual(before);
    expect(num(first(task, 5))).toBe(createdAt);
  });

  it("refuses a duplicate task and an invalid guid", async () => {
    await desireTask("task-dup");
    expect(errorOf((await desireTask("task-dup")).body)?.type).toBe("ResourceExists");
    expect(errorOf((await desireTask("bad/guid")).body)).toEqual({ type: "InvalidRequest", message: "Invalid field: task_guid" });
  });

  it("lists tasks filtered by domain", async () => {
    await desireTask("task-d1", "domain-one");
    await desireTask("task-d2", "domain-two");
    const filtered = await post(bbs.url, "/v1/tasks/list", concat(pb.string(1, "domain-one"), pb.string(2, "")));
    expect(all(readFields(filtered.body), 2).map((t) => str(first(sub(t), 2)))).toEqual(["task-d1"]);
  });
});

describe("JSON bodies", () => {
  it("serves a JSON request with a JSON response in the Go-tag shape", async () => {
    await desire(desiredLRP("web-json", 1));
    const response = await send(`${bbs.url}/v1/desired_lrps/get_by_process_guid`, "POST", JSON.stringify({ process_guid: "web-json" }), {
      "Content-Type": "application/json",
    });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(response.text);
    expect(body.desired_lrp).toMatchObject({ process_guid: "web-json", domain: "cf-apps", rootfs: "docker:///cloudfoundry/grace", instances: 1 });
    expect(body.desired_lrp.action).toEqual({ run: expect.objectContaining({ path: "/bin/sleep", user: "vcap" }) });
    expect(body.desired_lrp.routes).toEqual({ "cf-router": [{ hostnames: ["grace.example.com"], port: 8080 }] });

    const missing = await send(`${bbs.url}/v1/desired_lrps/get_by_process_guid`, "POST", JSON.stringify({ process_guid: "nobody" }), {
      "Content-Type": "application/json",
    });
    expect(JSON.parse(missing.text)).toEqual({ error: { type: "ResourceNotFound", message: "the requested resource could not be found" } });
  });
});
