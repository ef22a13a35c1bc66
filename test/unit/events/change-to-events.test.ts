// The pure translation of store changes into BBS events (db/etcd/event_db.go's switch).
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { encodeActualLRP } from "../../../core/actual-lrps";
import { decodeBBSEvent, encodeBBSEvent } from "../../../core/events/bbs-events";
import { changeToEvent } from "../../../core/events/change-to-events";
import { ActualLRPSchema } from "../../../core/gen/models/actual_lrp_pb";
import { DesiredLRPSchema } from "../../../core/gen/models/desired_lrp_pb";
import type { Logger } from "../../../core/logger";
import { actualLRPKey, emptyNetInfo, newModificationTag } from "../../../core/models/actual-lrp";
import { encodeRecord } from "../../../core/records";
import { actualLRPInstanceKey, desiredLRPKey, evacuatingActualLRPKey, taskKey } from "../../../core/store/keys";
import type { StoreNode } from "../../../core/store/store";
import { all, first, readFields, str, sub } from "../../support/proto-wire";

const desired = (guid: string, instances: number) =>
  create(DesiredLRPSchema, { processGuid: guid, domain: "cf-apps", rootFs: "preloaded:cflinuxfs2", instances });
const actual = (guid: string, state: string, cellId = "") =>
  create(ActualLRPSchema, {
    actualLrpKey: actualLRPKey(guid, 0, "cf-apps"),
    actualLrpInstanceKey: { instanceGuid: cellId ? "ig" : "", cellId },
    actualLrpNetInfo: emptyNetInfo(),
    state,
    modificationTag: newModificationTag(),
  });
const node = (key: string, value: Uint8Array, version = 1): StoreNode => ({ key, value, version });

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const logger = {
    errors,
    debug() {},
    info() {},
    error(message: string) {
      errors.push(message);
    },
    with: () => logger,
  };
  return logger;
}

describe("changeToEvent", () => {
  const dKey = desiredLRPKey("web");
  const d1 = node(dKey, encodeRecord(DesiredLRPSchema, desired("web", 1)), 1);
  const d2 = node(dKey, encodeRecord(DesiredLRPSchema, desired("web", 3)), 2);

  it("maps a desired LRP's create, update and delete to created, changed and removed", () => {
    expect(changeToEvent({ key: dKey, after: d1, expired: false, sequence: "1" })).toMatchObject({
      type: "desired_lrp_created",
      desiredLRP: { processGuid: "web", instances: 1 },
    });
    expect(changeToEvent({ key: dKey, before: d1, after: d2, expired: false, sequence: "2" })).toMatchObject({
      type: "desired_lrp_changed",
      before: { instances: 1 },
      after: { instances: 3 },
    });
    expect(changeToEvent({ key: dKey, before: d2, expired: false, sequence: "3" })).toMatchObject({
      type: "desired_lrp_removed",
      desiredLRP: { instances: 3 },
    });
  });

  it("puts an actual LRP in the slot its key names, and only that slot", () => {
    const iKey = actualLRPInstanceKey("web", 0);
    const eKey = evacuatingActualLRPKey("web", 0);
    const claimed = node(iKey, encodeActualLRP(actual("web", "CLAIMED", "cell-1")));
    const running = node(iKey, encodeActualLRP(actual("web", "RUNNING", "cell-1")), 2);
    const evacuating = node(eKey, encodeActualLRP(actual("web", "RUNNING", "cell-1")));

    const created = changeToEvent({ key: iKey, after: claimed, expired: false, sequence: "1" });
    expect(created?.type).toBe("actual_lrp_created");
    if (created?.type !== "actual_lrp_created") throw new Error("unreachable");
    expect(created.actualLRPGroup.instance?.state).toBe("CLAIMED");
    expect(created.actualLRPGroup.evacuating).toBeUndefined();

    const changed = changeToEvent({ key: iKey, before: claimed, after: running, expired: false, sequence: "2" });
    if (changed?.type !== "actual_lrp_changed") throw new Error(`got ${changed?.type}`);
    expect([changed.before.instance?.state, changed.after.instance?.state]).toEqual(["CLAIMED", "RUNNING"]);

    const evacuated = changeToEvent({ key: eKey, after: evacuating, expired: false, sequence: "3" });
    if (evacuated?.type !== "actual_lrp_created") throw new Error(`got ${evacuated?.type}`);
    expect(evacuated.actualLRPGroup.instance).toBeUndefined();
    expect(evacuated.actualLRPGroup.evacuating?.state).toBe("RUNNING");

    // An expiry is a removal like a delete, carrying the last value, in the evacuating slot only.
    const expired = changeToEvent({ key: eKey, before: evacuating, expired: true, sequence: "4" });
    if (expired?.type !== "actual_lrp_removed") throw new Error(`got ${expired?.type}`);
    expect(expired.actualLRPGroup.instance).toBeUndefined();
    expect(expired.actualLRPGroup.evacuating?.actualLrpInstanceKey?.cellId).toBe("cell-1");
    // On the wire: ActualLRPRemovedEvent{1: ActualLRPGroup{2: evacuating}} and nothing else.
    const wire = readFields(encodeBBSEvent(expired));
    expect([...wire.keys()]).toEqual([1]);
    expect([...sub(first(wire, 1)).keys()]).toEqual([2]);
  });

  it("makes no event for records that are not LRPs", () => {
    expect(changeToEvent({ key: taskKey("t1"), after: node(taskKey("t1"), new Uint8Array([2])), expired: false, sequence: "1" })).toBeUndefined();
    expect(changeToEvent({ key: "/v1/event/0/1", after: node("/v1/event/0/1", new Uint8Array([1])), expired: false, sequence: "2" })).toBeUndefined();
  });

  it("skips and logs a record that does not decode, without throwing", () => {
    const logger = recordingLogger();
    const bad = node(actualLRPInstanceKey("web", 0), new Uint8Array([9, 9, 9]));
    expect(changeToEvent({ key: bad.key, after: bad, expired: false, sequence: "1" }, logger)).toBeUndefined();
    const badDesired = node(dKey, Uint8Array.from([2, 0x0a, 0xff]));
    expect(changeToEvent({ key: dKey, before: d1, after: badDesired, expired: false, sequence: "2" }, logger)).toBeUndefined();
    expect(logger.errors).toEqual(["failed-to-unmarshal-actual-lrp", "failed-to-unmarshal-desired-lrp"]);
  });
});

describe("the event messages", () => {
  it("encode as models/events.proto and decode back", () => {
    const d = desired("web", 2);
    const bytes = encodeBBSEvent({ type: "desired_lrp_changed", before: d, after: desired("web", 4) });
    const fields = readFields(bytes);
    expect(all(fields, 1)).toHaveLength(1);
    expect(str(first(sub(first(fields, 2)), 1))).toBe("web");
    expect(decodeBBSEvent("desired_lrp_changed", bytes)).toMatchObject({ before: { instances: 2 }, after: { instances: 4 } });
  });
});
