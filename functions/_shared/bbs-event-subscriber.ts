// Lambda subscribers: a function that receives BBS events straight from the store table's stream,
// decoded and typed, plus the event-source filter that makes Lambda deliver only the records it
// wants (some event types, one domain, one cell), matched on the stream images before any
// invocation. See core/events/EVENTS.md.
//
// Each subscriber is one more reader of every stream shard, and DynamoDB advises at most two readers
// per shard (the BBS's own consumer is one): keep to one subscriber per table, or subscribe to
// GET /v1/events instead.
//
// @example
//   export const filter = { types: ["actual_lrp_changed"], domain: "cf-apps" } satisfies BBSEventFilter;
//   export const handler = bbsEventSubscriber({
//     filter,
//     async handle(event, meta) { ... },
//   });
//   // infra: table.subscribe("Crashes", "functions/subscribers/x.handler", { filters: bbsEventFilterPatterns(filter) })
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import type { BBSEvent, BBSEventType } from "../../core/events/bbs-events";
import { changeToEvent } from "../../core/events/change-to-events";
import type { ActualLRPGroup } from "../../core/gen/models/actual_lrp_pb";
import { jsonLogger, type Logger } from "../../core/logger";
import { Attr, LabelAttrPrefix, ShardSeparator } from "../../core/store/dynamo-table";
import { toStoreChange, type DynamoDBStreamRecord } from "../../core/store/dynamo-stream";
import { ActualLRPRoot, DesiredLRPRoot } from "../../core/store/keys";

/** Which events a subscriber wants; every field given must match (AND). */
export interface BBSEventFilter {
  /** Only these types (default: all six). */
  types?: readonly BBSEventType[];
  /** Only LRPs of this domain. */
  domain?: string;
  /** Only actual LRPs on this cell, before or after the change (desired LRP events never match). */
  cellId?: string;
}

/** Where an event came from in the stream; `sequence` and `key` identify it across redeliveries. */
export interface BBSEventMeta {
  sequence: string;
  key: string;
  /** A TTL expiry rather than a delete. */
  expired: boolean;
  eventID?: string;
}

export interface BBSEventSubscriberOptions {
  filter?: BBSEventFilter;
  /** Called once per matching event, in stream order; throw to have the event (and those after it) redelivered. */
  handle(event: BBSEvent, meta: BBSEventMeta): Promise<void> | void;
  logger?: Logger;
  nowMs?: () => number;
}

// ---- The exact filter (applied to decoded events) ----

const desiredTypes = new Set<BBSEventType>(["desired_lrp_created", "desired_lrp_changed", "desired_lrp_removed"]);

function groups(event: BBSEvent): ActualLRPGroup[] {
  switch (event.type) {
    case "actual_lrp_created":
    case "actual_lrp_removed":
      return [event.actualLRPGroup];
    case "actual_lrp_changed":
      return [event.before, event.after];
    default:
      return [];
  }
}

function domainOf(event: BBSEvent): string | undefined {
  switch (event.type) {
    case "desired_lrp_created":
    case "desired_lrp_removed":
      return event.desiredLRP.domain;
    case "desired_lrp_changed":
      return event.after.domain;
    default: {
      const lrp = groups(event).map((g) => g.instance ?? g.evacuating)[0];
      return lrp?.actualLrpKey?.domain;
    }
  }
}

/** Whether a decoded event passes the filter: the final word, after Lambda's coarser pre-filter. */
export function matchesBBSEventFilter(event: BBSEvent, filter: BBSEventFilter = {}): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.domain !== undefined && domainOf(event) !== filter.domain) return false;
  if (filter.cellId !== undefined) {
    if (desiredTypes.has(event.type)) return false;
    const cells = groups(event).map((g) => (g.instance ?? g.evacuating)?.actualLrpInstanceKey?.cellId);
    if (!cells.includes(filter.cellId)) return false;
  }
  return true;
}

// ---- The Lambda event-source filter (applied by Lambda to raw stream records) ----

/** A Lambda event filter pattern (FilterCriteria.Filters[].Pattern, before JSON.stringify). */
export type LambdaFilterPattern = Record<string, unknown>;

/** The stream record names under which each event type can arrive. */
const eventNames: Record<BBSEventType, readonly ("INSERT" | "MODIFY" | "REMOVE")[]> = {
  // A write over an expired record is a MODIFY that counts as a creation.
  desired_lrp_created: ["INSERT", "MODIFY"],
  desired_lrp_changed: ["MODIFY"],
  desired_lrp_removed: ["REMOVE"],
  actual_lrp_created: ["INSERT", "MODIFY"],
  actual_lrp_changed: ["MODIFY"],
  actual_lrp_removed: ["REMOVE"],
};

/**
 * Lambda filter patterns (ORed; at most 2 of Lambda's 5) that let through every record that can
 * make a matching event and as few others as possible. They match the partition key's root, the
 * record's eventName and the `l_domain` / `l_cell_id` label attributes of the images (the NEW image
 * for inserts and updates, the OLD one for removals and for what a change moved away from).
 * Pass them as SST's `filters`, or JSON.stringify each into FilterCriteria.Filters[].Pattern.
 */
export function bbsEventFilterPatterns(filter: BBSEventFilter = {}): LambdaFilterPattern[] {
  const types = filter.types ?? (Object.keys(eventNames) as BBSEventType[]);
  const wantsActual = types.some((t) => !desiredTypes.has(t));
  const wantsDesired = filter.cellId === undefined && types.some((t) => desiredTypes.has(t));
  const roots = [...(wantsDesired ? [DesiredLRPRoot] : []), ...(wantsActual ? [ActualLRPRoot] : [])];
  const names = [...new Set(types.flatMap((t) => eventNames[t]))].sort();
  const base = {
    eventName: names,
    dynamodb: { Keys: { [Attr.pk]: { S: roots.map((root) => ({ prefix: `${root}${ShardSeparator}` })) } } },
  };
  const labels: Record<string, { S: string[] }> = {};
  if (filter.domain !== undefined) labels[`${LabelAttrPrefix}domain`] = { S: [filter.domain] };
  if (filter.cellId !== undefined) labels[`${LabelAttrPrefix}cell_id`] = { S: [filter.cellId] };
  if (Object.keys(labels).length === 0) return [base];
  const onImage = (image: "NewImage" | "OldImage") => ({ ...base, dynamodb: { ...base.dynamodb, [image]: labels } });
  return [onImage("NewImage"), onImage("OldImage")];
}

/** The same patterns as a CloudFormation / Lambda API FilterCriteria. */
export function bbsEventFilterCriteria(filter: BBSEventFilter = {}): { Filters: { Pattern: string }[] } {
  return { Filters: bbsEventFilterPatterns(filter).map((p) => ({ Pattern: JSON.stringify(p) })) };
}

// ---- The handler ----

/**
 * A DynamoDB stream handler (ReportBatchItemFailures) that decodes records into BBS events, drops
 * those the filter rejects, and hands the rest to `handle` in order. Records that are not LRPs or do
 * not decode are logged and skipped. When `handle` throws, that record is reported as the batch item
 * failure, so Lambda redelivers from it: `handle` must tolerate seeing an event again.
 */
export function bbsEventSubscriber(options: BBSEventSubscriberOptions): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  const now = options.nowMs ?? Date.now;
  return async (event) => {
    const logger = options.logger ?? jsonLogger();
    for (const record of event.Records) {
      const sequence = record.dynamodb?.SequenceNumber ?? "";
      let bbsEvent: BBSEvent | undefined;
      let meta: BBSEventMeta | undefined;
      try {
        const change = toStoreChange(record as unknown as DynamoDBStreamRecord, now());
        bbsEvent = change && changeToEvent(change, logger);
        if (change) meta = { sequence, key: change.key, expired: change.expired, eventID: record.eventID };
      } catch (error) {
        logger.error("skipped-unreadable-stream-record", error, { sequence, event_id: record.eventID });
        continue;
      }
      if (!bbsEvent || !meta || !matchesBBSEventFilter(bbsEvent, options.filter)) continue;
      try {
        await options.handle(bbsEvent, meta);
      } catch (error) {
        logger.error("bbs-event-subscriber-failed", error, { sequence, type: bbsEvent.type, key: meta.key });
        return { batchItemFailures: [{ itemIdentifier: sequence }] };
      }
    }
    return { batchItemFailures: [] };
  };
}
