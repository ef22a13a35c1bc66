// Store change → BBS event: the switch of db/etcd/event_db.go, on our StoreChange instead of an etcd
// watch response. Pure apart from logging.
//
// * Only desired and actual LRP records make events; everything else (tasks, domains, cells, the
//   event log's own entries) makes none, as at 0344309c.
// * Which images are present decides the type: after only → created, both → changed, before only →
//   removed. A deletion and a TTL expiry are the same removal, carrying the last stored value.
// * An actual LRP event carries a group holding only the slot that changed — `instance` or
//   `evacuating`, as the key says — even when the other slot exists.
// * A record that does not decode is logged and skipped; it never fails the batch.
import { create } from "@bufbuild/protobuf";
import { decodeActualLRP } from "../actual-lrps";
import { decodeDesiredLRP } from "../desired-lrps";
import { ActualLRPGroupSchema, type ActualLRP, type ActualLRPGroup } from "../gen/models/actual_lrp_pb";
import type { DesiredLRP } from "../gen/models/desired_lrp_pb";
import type { Logger } from "../logger";
import { parseKey } from "../store/keys";
import type { StoreChange, StoreNode } from "../store/store";
import type { BBSEvent } from "./bbs-events";

function groupOf(lrp: ActualLRP, slot: "instance" | "evacuating"): ActualLRPGroup {
  return create(ActualLRPGroupSchema, slot === "instance" ? { instance: lrp } : { evacuating: lrp });
}

/** The event a change makes, or undefined when it makes none (not an LRP, or undecodable). */
export function changeToEvent(change: StoreChange, logger?: Logger): BBSEvent | undefined {
  const parsed = parseKey(change.key);
  if (parsed.kind !== "desiredLRP" && parsed.kind !== "actualLRP") return undefined;
  const { before, after } = change;
  if (!before && !after) return undefined;

  if (parsed.kind === "desiredLRP") {
    const decode = (node: StoreNode): DesiredLRP | undefined => {
      try {
        return decodeDesiredLRP(node);
      } catch (error) {
        logger?.error("failed-to-unmarshal-desired-lrp", error, { key: node.key, sequence: change.sequence });
        return undefined;
      }
    };
    const b = before && decode(before);
    const a = after && decode(after);
    if ((before && !b) || (after && !a)) return undefined;
    if (a && b) return { type: "desired_lrp_changed", before: b, after: a };
    if (a) return { type: "desired_lrp_created", desiredLRP: a };
    return { type: "desired_lrp_removed", desiredLRP: b! };
  }

  const decode = (node: StoreNode): ActualLRPGroup | undefined => {
    try {
      return groupOf(decodeActualLRP(node), parsed.slot);
    } catch (error) {
      logger?.error("failed-to-unmarshal-actual-lrp", error, { key: node.key, sequence: change.sequence });
      return undefined;
    }
  };
  const b = before && decode(before);
  const a = after && decode(after);
  if ((before && !b) || (after && !a)) return undefined;
  if (a && b) return { type: "actual_lrp_changed", before: b, after: a };
  if (a) return { type: "actual_lrp_created", actualLRPGroup: a };
  return { type: "actual_lrp_removed", actualLRPGroup: b! };
}
