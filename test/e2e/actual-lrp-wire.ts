// Shared by the actual-LRP e2e tests: the lifecycle, evacuation and cell requests built by field
// number, and the ActualLRP fields read back from responses, independently of the server's codec.
import { post } from "../support/http-client";
import { all, concat, errorOf, first, int32, num, pb, readFields, str, sub, type Field } from "../support/proto-wire";

export type Port = [containerPort: number, hostPort: number];

export const keyMsg = (guid: string, index: number, domain = "cf-apps") => concat(pb.string(1, guid), pb.varint(2, index), pb.string(3, domain));
export const instanceMsg = (instanceGuid: string, cellId: string) => concat(pb.string(1, instanceGuid), pb.string(2, cellId));
export const netMsg = (address: string, ports: Port[] = [[8080, 61000]]) =>
  concat(pb.string(1, address), ...ports.map(([c, h]) => pb.message(2, pb.varint(1, c), pb.varint(2, h))));

const runAction = pb.message(3, pb.string(1, "/bin/sleep"), pb.string(2, "100"), pb.string(6, "vcap"));
// Routes are set because desire currently fails with UnknownError on an LRP without them (reported).
const routes = pb.message(1, pb.string(1, "cf-router"), pb.string(2, '[{"hostnames":["app.example.com"],"port":8080}]'));
export const desiredLRPMsg = (guid: string, instances: number, domain = "cf-apps") =>
  concat(pb.string(1, guid), pb.string(2, domain), pb.string(3, "docker:///cloudfoundry/grace"), pb.varint(4, instances), pb.message(7, runAction), pb.bytes(15, routes));

/** The requests of one BBS, by route. */
export function bbsClient(base: string) {
  const call = (path: string, ...parts: Uint8Array[]) => post(base, path, concat(...parts));
  return {
    desire: (guid: string, instances: number) => call("/v1/desired_lrp/desire", pb.message(1, desiredLRPMsg(guid, instances))),
    claim: (guid: string, index: number, instanceGuid: string, cellId: string) =>
      call("/v1/actual_lrps/claim", pb.string(1, guid), pb.varint(2, index), pb.message(3, instanceMsg(instanceGuid, cellId))),
    start: (guid: string, index: number, instanceGuid: string, cellId: string, address = "10.0.0.1", domain = "cf-apps") =>
      call("/v1/actual_lrps/start", pb.message(1, keyMsg(guid, index, domain)), pb.message(2, instanceMsg(instanceGuid, cellId)), pb.message(3, netMsg(address))),
    crash: (guid: string, index: number, instanceGuid: string, cellId: string, message = "exited with status 1") =>
      call("/v1/actual_lrps/crash", pb.message(1, keyMsg(guid, index)), pb.message(2, instanceMsg(instanceGuid, cellId)), pb.string(3, message)),
    fail: (guid: string, index: number, message: string) => call("/v1/actual_lrps/fail", pb.message(1, keyMsg(guid, index)), pb.string(2, message)),
    remove: (guid: string, index: number) => call("/v1/actual_lrps/remove", pb.string(1, guid), pb.varint(2, index)),
    retire: (guid: string, index: number) => call("/v1/actual_lrps/retire", pb.message(1, keyMsg(guid, index))),
    evacuateClaimed: (guid: string, index: number, instanceGuid: string, cellId: string) =>
      call("/v1/actual_lrps/evacuate_claimed", pb.message(1, keyMsg(guid, index)), pb.message(2, instanceMsg(instanceGuid, cellId))),
    evacuateRunning: (guid: string, index: number, instanceGuid: string, cellId: string, ttlSeconds: number, address = "10.0.0.1", domain = "cf-apps") =>
      call(
        "/v1/actual_lrps/evacuate_running",
        pb.message(1, keyMsg(guid, index, domain)),
        pb.message(2, instanceMsg(instanceGuid, cellId)),
        pb.message(3, netMsg(address)),
        pb.varint(4, ttlSeconds),
      ),
    evacuateStopped: (guid: string, index: number, instanceGuid: string, cellId: string) =>
      call("/v1/actual_lrps/evacuate_stopped", pb.message(1, keyMsg(guid, index)), pb.message(2, instanceMsg(instanceGuid, cellId))),
    evacuateCrashed: (guid: string, index: number, instanceGuid: string, cellId: string, message = "exited") =>
      call("/v1/actual_lrps/evacuate_crashed", pb.message(1, keyMsg(guid, index)), pb.message(2, instanceMsg(instanceGuid, cellId)), pb.string(3, message)),
    removeEvacuating: (guid: string, index: number, instanceGuid: string, cellId: string) =>
      call("/v1/actual_lrps/remove_evacuating", pb.message(1, keyMsg(guid, index)), pb.message(2, instanceMsg(instanceGuid, cellId))),
    upsertCell: (cellId: string, repAddress: string, ttlSeconds: number) =>
      call("/v1/cells/upsert", pb.message(1, pb.string(1, cellId), pb.string(2, repAddress), pb.string(3, "z1")), pb.varint(2, ttlSeconds)),
    cells: () => call("/v1/cells/list"),
    group: (guid: string, index: number) => call("/v1/actual_lrp_groups/get_by_process_guid_and_index", pb.string(1, guid), pb.varint(2, index)),
  };
}

export type BBSClient = ReturnType<typeof bbsClient>;

export interface WireActualLRP {
  processGuid?: string;
  index?: number;
  domain?: string;
  instanceGuid: string;
  cellId: string;
  address: string;
  ports: Port[];
  crashCount: number;
  crashReason: string;
  state?: string;
  placementError: string;
  since: bigint;
  tag: { epoch?: string; index: number };
}

export function actualLRPOf(f: Field | undefined): WireActualLRP | undefined {
  if (!f) return undefined;
  const lrp = sub(f);
  const key = sub(first(lrp, 1));
  const instance = sub(first(lrp, 2));
  const net = sub(first(lrp, 3));
  const tag = sub(first(lrp, 9));
  return {
    processGuid: str(first(key, 1)),
    index: int32(first(key, 2)) ?? 0,
    domain: str(first(key, 3)),
    instanceGuid: str(first(instance, 1)) ?? "",
    cellId: str(first(instance, 2)) ?? "",
    address: str(first(net, 1)) ?? "",
    ports: all(net, 2).map((p) => [Number(num(first(sub(p), 1)) ?? 0n), Number(num(first(sub(p), 2)) ?? 0n)] as Port),
    crashCount: int32(first(lrp, 4)) ?? 0,
    crashReason: str(first(lrp, 5)) ?? "",
    state: str(first(lrp, 6)),
    placementError: str(first(lrp, 7)) ?? "",
    since: BigInt.asIntN(64, num(first(lrp, 8)) ?? 0n),
    tag: { epoch: str(first(tag, 1)), index: Number(num(first(tag, 2)) ?? 0n) },
  };
}

/** Both halves of an index through get_by_process_guid_and_index; a missing index has neither. */
export async function groupOf(bbs: BBSClient, guid: string, index: number) {
  const response = await bbs.group(guid, index);
  const error = errorOf(response.body);
  if (error?.type === "ResourceNotFound") return { instance: undefined, evacuating: undefined };
  if (error) throw new Error(`group read failed: ${error.type}`);
  const group = sub(first(readFields(response.body), 2));
  return { instance: actualLRPOf(first(group, 1)), evacuating: actualLRPOf(first(group, 2)) };
}

/** keep_container (field 2) and the error (field 1) of an EvacuationResponse. */
export function evacuationOf(body: Uint8Array) {
  return { keepContainer: num(first(readFields(body), 2)) === 1n, error: errorOf(body)?.type };
}

/** The record rules of semantics §2.1, checked on what the server returns. */
export function wireValidationProblems(lrp: WireActualLRP): string[] {
  const problems: string[] = [];
  if (!lrp.processGuid || !lrp.domain || (lrp.index ?? -1) < 0 || lrp.since === 0n) problems.push("key or since");
  const hasInstance = lrp.instanceGuid !== "" || lrp.cellId !== "";
  const fullInstance = lrp.instanceGuid !== "" && lrp.cellId !== "";
  const hasNet = lrp.address !== "" || lrp.ports.length > 0;
  switch (lrp.state) {
    case "UNCLAIMED":
      if (hasInstance || hasNet) problems.push("unclaimed with instance or net info");
      break;
    case "CLAIMED":
      if (!fullInstance || hasNet || lrp.placementError) problems.push("claimed without instance, or with net info / placement error");
      break;
    case "RUNNING":
      if (!fullInstance || lrp.address === "" || lrp.placementError) problems.push("running without instance or address, or with a placement error");
      break;
    case "CRASHED":
      if (hasInstance || hasNet || lrp.placementError) problems.push("crashed with instance, net info or placement error");
      break;
    default:
      problems.push(`state ${lrp.state}`);
  }
  return problems;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
