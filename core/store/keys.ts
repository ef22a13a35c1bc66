// The etcd key schema of the BBS (plus cell presence, which lived in consul). Nobody writes a key
// path inline: every path is built and parsed here.

export const V1 = "/v1";
export const DesiredLRPRoot = `${V1}/desired`;
export const ActualLRPRoot = `${V1}/actual`;
export const DomainRoot = `${V1}/domain`;
export const TaskRoot = `${V1}/task`;
export const CellRoot = `${V1}/cell`;

export const Roots = [DesiredLRPRoot, ActualLRPRoot, DomainRoot, TaskRoot, CellRoot] as const;

// The BBS event log (core/events/EVENTS.md), written by the stream consumer. Deliberately not among
// `Roots`: it is not BBS state, and parseKey reads its keys as "other", so its own stream records
// never turn into events.
export const EventLogRoot = `${V1}/event`;
export const EventDedupeRoot = `${V1}/event-source`;
/** Entries live in buckets of consecutive ids, one partition per bucket. */
export const eventLogBucketDir = (bucket: number) => `${EventLogRoot}/${bucket}`;
export const eventLogEntryKey = (bucket: number, id: number) => `${eventLogBucketDir(bucket)}/${id}`;
/** The last id handed out. */
export const eventLogHeadKey = `${EventLogRoot}/head`;
/** Marks a stream record as logged, so redelivery appends nothing. */
export const eventDedupeKey = (recordId: string) => `${EventDedupeRoot}/${recordId}`;

export const desiredLRPKey = (processGuid: string) => `${DesiredLRPRoot}/${processGuid}`;
export const actualLRPProcessDir = (processGuid: string) => `${ActualLRPRoot}/${processGuid}`;
export const actualLRPIndexDir = (processGuid: string, index: number) => `${actualLRPProcessDir(processGuid)}/${index}`;
export const actualLRPInstanceKey = (processGuid: string, index: number) => `${actualLRPIndexDir(processGuid, index)}/instance`;
export const evacuatingActualLRPKey = (processGuid: string, index: number) => `${actualLRPIndexDir(processGuid, index)}/evacuating`;
export const domainKey = (domain: string) => `${DomainRoot}/${domain}`;
export const taskKey = (taskGuid: string) => `${TaskRoot}/${taskGuid}`;
export const cellPresenceKey = (cellId: string) => `${CellRoot}/${cellId}`;

export type ParsedKey =
  | { kind: "desiredLRP"; processGuid: string }
  | { kind: "actualLRP"; processGuid: string; index: number; slot: "instance" | "evacuating" }
  | { kind: "domain"; domain: string }
  | { kind: "task"; taskGuid: string }
  | { kind: "cell"; cellId: string }
  | { kind: "other" };

export function parseKey(key: string): ParsedKey {
  const parts = key.split("/");
  // ["", "v1", root, ...rest]
  if (parts[0] !== "" || parts[1] !== "v1") return { kind: "other" };
  const [root, a, b, c] = [parts[2], parts[3], parts[4], parts[5]];
  if (a === undefined || a === "") return { kind: "other" };
  switch (root) {
    case "desired":
      return parts.length === 4 ? { kind: "desiredLRP", processGuid: a } : { kind: "other" };
    case "actual": {
      if (parts.length !== 6 || (c !== "instance" && c !== "evacuating") || !/^\d+$/.test(b ?? "")) return { kind: "other" };
      return { kind: "actualLRP", processGuid: a, index: Number(b), slot: c };
    }
    case "domain":
      return parts.length === 4 ? { kind: "domain", domain: a } : { kind: "other" };
    case "task":
      return parts.length === 4 ? { kind: "task", taskGuid: a } : { kind: "other" };
    case "cell":
      return parts.length === 4 ? { kind: "cell", cellId: a } : { kind: "other" };
    default:
      return { kind: "other" };
  }
}

/** A guid segment must not be able to climb or split the hierarchy (the original joined paths blindly). */
export function isSafeKeySegment(segment: string): boolean {
  return segment !== "" && segment !== "." && segment !== ".." && !segment.includes("/");
}
