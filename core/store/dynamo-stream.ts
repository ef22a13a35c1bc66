// DynamoDB stream record → StoreChange, the watch half of the store. Pure: the Lambda stream consumer
// and the local stream pump feed it the same Lambda-shaped record (the pump converts Streams API
// records with fromStreamsApiRecord), so there is one mapping to test and to trust.
//
// Expiry is a REMOVE either by DynamoDB's own TTL reaper (userIdentity Service/dynamodb.amazonaws.com)
// or by DynamoStore.sweepExpired, which only ever deletes nodes whose expiresAtMs has passed; a
// caller's delete of an expired node cannot happen (it fails with KeyNotFound). A caller's delete of a
// live node that is only consumed after the node's expiry would also read as expired; watchers treat
// expiry and deletion alike, so that is harmless.
import type { StoreChange, StoreNode } from "./store";
import { Attr, LabelAttrPrefix } from "./dynamo-table";

interface StreamAttributeTypes {
  B: string;
  BOOL: boolean;
  BS: string[];
  L: StreamAttributeValue[];
  M: { [name: string]: StreamAttributeValue };
  N: string;
  NS: string[];
  NULL: boolean;
  S: string;
  SS: string[];
}

/** Exactly one of the members is set. */
type OneOf<T> = { [K in keyof T]: { [P in K]: T[P] } & { [P in Exclude<keyof T, K>]?: never } }[keyof T];

/**
 * A stream image attribute as Lambda delivers it (binary as base64): a structural twin of
 * `AttributeValue` in @types/aws-lambda, so records convert in both directions without casts.
 */
export type StreamAttributeValue = OneOf<StreamAttributeTypes>;

export type StreamImage = { [name: string]: StreamAttributeValue };

export interface StreamRecordData {
  ApproximateCreationDateTime?: number;
  Keys?: StreamImage;
  NewImage?: StreamImage;
  OldImage?: StreamImage;
  SequenceNumber?: string;
  SizeBytes?: number;
  StreamViewType?: "KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES";
}

/** One record of a Lambda DynamoDB stream event (`DynamoDBRecord` of @types/aws-lambda). */
export interface DynamoDBStreamRecord {
  awsRegion?: string;
  dynamodb?: StreamRecordData;
  eventID?: string;
  eventName?: "INSERT" | "MODIFY" | "REMOVE";
  eventSource?: string;
  eventSourceARN?: string;
  eventVersion?: string;
  userIdentity?: { type?: string; principalId?: string };
}

/** An attribute as the Streams API client returns it (binary as bytes). */
export interface StreamsApiAttributeValue {
  B?: Uint8Array;
  BOOL?: boolean;
  BS?: Uint8Array[];
  L?: StreamsApiAttributeValue[];
  M?: Record<string, StreamsApiAttributeValue>;
  N?: string;
  NS?: string[];
  NULL?: boolean;
  S?: string;
  SS?: string[];
}

/** A record from @aws-sdk/client-dynamodb-streams GetRecords (`_Record`), structurally. */
export interface StreamsApiRecord {
  awsRegion?: string;
  dynamodb?: {
    ApproximateCreationDateTime?: Date;
    Keys?: Record<string, StreamsApiAttributeValue>;
    NewImage?: Record<string, StreamsApiAttributeValue>;
    OldImage?: Record<string, StreamsApiAttributeValue>;
    SequenceNumber?: string;
    SizeBytes?: number;
    StreamViewType?: string;
  };
  eventID?: string;
  eventName?: string;
  eventSource?: string;
  eventVersion?: string;
  userIdentity?: { PrincipalId?: string; Type?: string };
}

const TtlService = { type: "Service", principalId: "dynamodb.amazonaws.com" } as const;

/**
 * The store change a stream record stands for, or undefined when the item is not a store node.
 * `nowMs` is the consumer's clock, used to tell the sweeper's REMOVEs (of expired nodes) from deletes.
 */
export function toStoreChange(record: DynamoDBStreamRecord, nowMs: number): StoreChange | undefined {
  const data = record.dynamodb;
  const sequence = data?.SequenceNumber ?? "";
  switch (record.eventName) {
    case "INSERT": {
      const after = nodeFromImage(data?.NewImage);
      return after && { key: after.key, after, expired: false, sequence };
    }
    case "MODIFY": {
      const after = nodeFromImage(data?.NewImage);
      if (!after) return undefined;
      let before = nodeFromImage(data?.OldImage);
      // A write over an expired node re-creates it: etcd would have said expire, then create.
      const writtenAtMs = numberAttr(data?.NewImage, Attr.writtenAtMs) ?? nowMs;
      if (before?.expiresAtMs !== undefined && before.expiresAtMs <= writtenAtMs) before = undefined;
      return before ? { key: after.key, before, after, expired: false, sequence } : { key: after.key, after, expired: false, sequence };
    }
    case "REMOVE": {
      const before = nodeFromImage(data?.OldImage);
      if (!before) return undefined;
      const byTtlService =
        record.userIdentity?.type === TtlService.type && record.userIdentity.principalId === TtlService.principalId;
      const expired = byTtlService || (before.expiresAtMs !== undefined && before.expiresAtMs <= nowMs);
      return { key: before.key, before, expired, sequence };
    }
    default:
      return undefined;
  }
}

/**
 * A Streams API record in the Lambda event shape: binary to base64, the date to epoch seconds,
 * `userIdentity` in Lambda's casing, plus the stream ARN Lambda adds as `eventSourceARN`.
 */
export function fromStreamsApiRecord(record: StreamsApiRecord, eventSourceARN?: string): DynamoDBStreamRecord {
  const out: DynamoDBStreamRecord = {};
  if (record.awsRegion !== undefined) out.awsRegion = record.awsRegion;
  if (record.eventID !== undefined) out.eventID = record.eventID;
  if (record.eventName === "INSERT" || record.eventName === "MODIFY" || record.eventName === "REMOVE") {
    out.eventName = record.eventName;
  }
  if (record.eventSource !== undefined) out.eventSource = record.eventSource;
  if (eventSourceARN !== undefined) out.eventSourceARN = eventSourceARN;
  if (record.eventVersion !== undefined) out.eventVersion = record.eventVersion;
  if (record.userIdentity) {
    const identity: { type?: string; principalId?: string } = {};
    if (record.userIdentity.Type !== undefined) identity.type = record.userIdentity.Type;
    if (record.userIdentity.PrincipalId !== undefined) identity.principalId = record.userIdentity.PrincipalId;
    out.userIdentity = identity;
  }
  if (isDynamoDBLocalTtlRemove(record)) {
    out.eventName = "REMOVE";
    out.userIdentity = { ...TtlService };
  }
  const d = record.dynamodb;
  if (d) {
    const data: StreamRecordData = {};
    if (d.ApproximateCreationDateTime) data.ApproximateCreationDateTime = Math.floor(d.ApproximateCreationDateTime.getTime() / 1000);
    if (d.Keys) data.Keys = imageToLambda(d.Keys);
    if (d.NewImage) data.NewImage = imageToLambda(d.NewImage);
    if (d.OldImage) data.OldImage = imageToLambda(d.OldImage);
    if (d.SequenceNumber !== undefined) data.SequenceNumber = d.SequenceNumber;
    if (d.SizeBytes !== undefined) data.SizeBytes = d.SizeBytes;
    if (
      d.StreamViewType === "KEYS_ONLY" ||
      d.StreamViewType === "NEW_IMAGE" ||
      d.StreamViewType === "OLD_IMAGE" ||
      d.StreamViewType === "NEW_AND_OLD_IMAGES"
    ) {
      data.StreamViewType = d.StreamViewType;
    }
    out.dynamodb = data;
  }
  return out;
}

/**
 * DynamoDB Local (3.x) writes its TTL deletions to the stream with the eventName
 * "UNKNOWN_TO_SDK_VERSION" (its Java SDK's placeholder for an unmapped enum) and without the
 * userIdentity AWS sends. Nothing else it emits looks like that: a caller's delete is a proper
 * REMOVE. So such a record is restored to what AWS would deliver for a TTL deletion.
 */
function isDynamoDBLocalTtlRemove(record: StreamsApiRecord): boolean {
  return (
    record.eventName === "UNKNOWN_TO_SDK_VERSION" &&
    record.userIdentity === undefined &&
    record.dynamodb?.OldImage !== undefined &&
    record.dynamodb.NewImage === undefined
  );
}

function imageToLambda(image: Record<string, StreamsApiAttributeValue>): StreamImage {
  const out: StreamImage = {};
  for (const [name, value] of Object.entries(image)) out[name] = valueToLambda(value);
  return out;
}

function valueToLambda(value: StreamsApiAttributeValue): StreamAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: toBase64(value.B) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(toBase64) };
  if (value.L !== undefined) return { L: value.L.map(valueToLambda) };
  if (value.M !== undefined) return { M: imageToLambda(value.M) };
  return { NULL: true }; // a type this SDK does not know; store nodes never hold one
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function fromBase64(text: string): Uint8Array {
  const buffer = Buffer.from(text, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function numberAttr(image: StreamImage | undefined, name: string): number | undefined {
  const n = image?.[name]?.N;
  return n === undefined ? undefined : Number(n);
}

/** The store node an image holds; undefined for items that are not store nodes (no `key`). */
export function nodeFromImage(image: StreamImage | undefined): StoreNode | undefined {
  const key = image?.[Attr.key]?.S;
  const version = numberAttr(image, Attr.version);
  if (!image || key === undefined || version === undefined) return undefined;
  const node: StoreNode = { key, value: fromBase64(image[Attr.value]?.B ?? ""), version };
  const expiresAtMs = numberAttr(image, Attr.expiresAtMs);
  if (expiresAtMs !== undefined) node.expiresAtMs = expiresAtMs;
  const labels: Record<string, string> = {};
  let any = false;
  for (const [name, value] of Object.entries(image)) {
    if (name.startsWith(LabelAttrPrefix) && value.S !== undefined) {
      labels[name.slice(LabelAttrPrefix.length)] = value.S;
      any = true;
    }
  }
  if (any) node.labels = labels;
  return node;
}
