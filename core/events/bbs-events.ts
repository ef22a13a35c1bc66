// The BBS events of models/events.go at 0344309c: six types, each a protobuf message whose SSE
// `event:` name is fixed. One typed union for the core, and the protobuf form for the wire and the log.
import { create, type DescMessage } from "@bufbuild/protobuf";
import type { ActualLRPGroup } from "../gen/models/actual_lrp_pb";
import type { DesiredLRP } from "../gen/models/desired_lrp_pb";
import {
  ActualLRPChangedEventSchema,
  ActualLRPCreatedEventSchema,
  ActualLRPRemovedEventSchema,
  DesiredLRPChangedEventSchema,
  DesiredLRPCreatedEventSchema,
  DesiredLRPRemovedEventSchema,
} from "../gen/models/events_pb";
import { decodeMessage, encodeMessage } from "../models/codec";

export const BBSEventType = {
  DesiredLRPCreated: "desired_lrp_created",
  DesiredLRPChanged: "desired_lrp_changed",
  DesiredLRPRemoved: "desired_lrp_removed",
  ActualLRPCreated: "actual_lrp_created",
  ActualLRPChanged: "actual_lrp_changed",
  ActualLRPRemoved: "actual_lrp_removed",
} as const;

export type BBSEventType = (typeof BBSEventType)[keyof typeof BBSEventType];

export const BBSEventTypes: readonly BBSEventType[] = Object.values(BBSEventType);

export type BBSEvent =
  | { type: "desired_lrp_created"; desiredLRP: DesiredLRP }
  | { type: "desired_lrp_changed"; before: DesiredLRP; after: DesiredLRP }
  | { type: "desired_lrp_removed"; desiredLRP: DesiredLRP }
  | { type: "actual_lrp_created"; actualLRPGroup: ActualLRPGroup }
  | { type: "actual_lrp_changed"; before: ActualLRPGroup; after: ActualLRPGroup }
  | { type: "actual_lrp_removed"; actualLRPGroup: ActualLRPGroup };

const schemas: Record<BBSEventType, DescMessage> = {
  desired_lrp_created: DesiredLRPCreatedEventSchema,
  desired_lrp_changed: DesiredLRPChangedEventSchema,
  desired_lrp_removed: DesiredLRPRemovedEventSchema,
  actual_lrp_created: ActualLRPCreatedEventSchema,
  actual_lrp_changed: ActualLRPChangedEventSchema,
  actual_lrp_removed: ActualLRPRemovedEventSchema,
};

export function isBBSEventType(name: string): name is BBSEventType {
  return Object.hasOwn(schemas, name);
}

/** The event message's protobuf encoding, as the original marshalled it into the SSE `data:` line. */
export function encodeBBSEvent(event: BBSEvent): Uint8Array {
  switch (event.type) {
    case "desired_lrp_created":
      return encodeMessage(DesiredLRPCreatedEventSchema, create(DesiredLRPCreatedEventSchema, { desiredLrp: event.desiredLRP }));
    case "desired_lrp_changed":
      return encodeMessage(DesiredLRPChangedEventSchema, create(DesiredLRPChangedEventSchema, { before: event.before, after: event.after }));
    case "desired_lrp_removed":
      return encodeMessage(DesiredLRPRemovedEventSchema, create(DesiredLRPRemovedEventSchema, { desiredLrp: event.desiredLRP }));
    case "actual_lrp_created":
      return encodeMessage(ActualLRPCreatedEventSchema, create(ActualLRPCreatedEventSchema, { actualLrpGroup: event.actualLRPGroup }));
    case "actual_lrp_changed":
      return encodeMessage(ActualLRPChangedEventSchema, create(ActualLRPChangedEventSchema, { before: event.before, after: event.after }));
    case "actual_lrp_removed":
      return encodeMessage(ActualLRPRemovedEventSchema, create(ActualLRPRemovedEventSchema, { actualLrpGroup: event.actualLRPGroup }));
  }
}

export class BBSEventDecodeError extends Error {
  override name = "BBSEventDecodeError";
}

/** The inverse of encodeBBSEvent; throws BBSEventDecodeError for a payload missing what its type needs. */
export function decodeBBSEvent(type: BBSEventType, payload: Uint8Array): BBSEvent {
  const message = decodeMessage(schemas[type], payload) as Record<string, unknown>;
  const need = <T>(name: string): T => {
    const value = message[name];
    if (value === undefined) throw new BBSEventDecodeError(`${type} event without ${name}`);
    return value as T;
  };
  switch (type) {
    case "desired_lrp_created":
    case "desired_lrp_removed":
      return { type, desiredLRP: need<DesiredLRP>("desiredLrp") };
    case "desired_lrp_changed":
      return { type, before: need<DesiredLRP>("before"), after: need<DesiredLRP>("after") };
    case "actual_lrp_created":
    case "actual_lrp_removed":
      return { type, actualLRPGroup: need<ActualLRPGroup>("actualLrpGroup") };
    case "actual_lrp_changed":
      return { type, before: need<ActualLRPGroup>("before"), after: need<ActualLRPGroup>("after") };
  }
}
