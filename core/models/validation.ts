/**
 * Request and model validation (wire §6.2, §7; semantics §2.1, §4, §5).
 *
 * Every validator returns the failure texts in evaluation order; an empty list means valid. The order
 * and the texts are part of the wire contract: the joined list becomes the `message` of an
 * `InvalidRequest` (handlers) or `InvalidRecord` (record writes) error byte-for-byte.
 *
 * The original's asymmetries are kept on purpose (wire Surprises #11): DesiredLRP reports an empty
 * rootfs twice and TaskDefinition once; DesiredLRP appends an invalid egress rule's own messages and
 * TaskDefinition does not; UploadAction checks `to` before `from`; ActualLRPInstanceKey checks
 * `cell_id` before `instance_guid`; Claim does not check `index`; TaskGuidRequest/TaskByGuidRequest and
 * ActualLRPKey have no guid pattern.
 *
 * Deliberate deviations from the original (it has no tests to pin them, so they are listed here):
 * 1. Panics (wire Surprises #8). An Action wrapper with none of its nine members set made the original
 *    call a method on a nil interface when it was a DesiredLRP's setup/action/monitor or was nested
 *    in timeout/try/emit_progress/parallel/serial/codependent. Here an empty wrapper validates as
 *    `invalid action type` wherever it appears, the text TaskDefinition already used for its own
 *    top-level empty action. An UpdateDesiredLRPRequest without `update` (the original panicked in
 *    the handler once the LRP existed) fails validation with `Invalid field: update`.
 * 2. Path traversal (wire Surprises #19). Where the original checked a store-key segment only for
 *    emptiness, here the segment also must not contain `/` and must not be `.` or `..`. A value
 *    breaking this rule gives the same `Invalid field: <name>` as an empty one, once. This applies to
 *    process_guid (ActualLRPGroupsByProcessGuid, ActualLRPGroupByProcessGuidAndIndex, Claim, Remove,
 *    DesiredLRPByProcessGuid, UpdateDesiredLRP, RemoveDesiredLRP and ActualLRPKey), to task_guid
 *    (TaskGuidRequest, TaskByGuidRequest), to domain (UpsertDomain) and to cell_id
 *    (ActualLRPInstanceKey, StartTask, CompleteTask, CellPresence). Guids checked against
 *    `^[a-zA-Z0-9_-]+$` are already safe.
 * 3. A DesiredLRP/DesiredLRPUpdate `routes` value that does not decode as ProtoRoutes gives
 *    `Invalid field: routes`. The original rejected it earlier, while decoding the request.
 *
 * "URL with a scheme" follows §7.2: Go's url.Parse finds a scheme exactly when the string starts with
 * `[A-Za-z][A-Za-z0-9+.-]*:`. The rarer url.Parse failures (a bad %-escape, a malformed authority)
 * are not reproduced.
 */
import { fromBinary, type Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import type { Action } from "../gen/models/actions_pb";
import {
  ActualLRPGroupByProcessGuidAndIndexRequestSchema,
  ActualLRPGroupsByProcessGuidRequestSchema,
  ActualLRPGroupsRequestSchema,
  ClaimActualLRPRequestSchema,
  CrashActualLRPRequestSchema,
  FailActualLRPRequestSchema,
  RemoveActualLRPRequestSchema,
  RetireActualLRPRequestSchema,
  StartActualLRPRequestSchema,
  type ActualLRPGroupByProcessGuidAndIndexRequest,
  type ActualLRPGroupsByProcessGuidRequest,
  type ClaimActualLRPRequest,
  type CrashActualLRPRequest,
  type FailActualLRPRequest,
  type RemoveActualLRPRequest,
  type RetireActualLRPRequest,
  type StartActualLRPRequest,
} from "../gen/models/actual_lrp_requests_pb";
import type { ActualLRP, ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo } from "../gen/models/actual_lrp_pb";
import { UpsertCellPresenceRequestSchema, type CellPresence, type UpsertCellPresenceRequest } from "../gen/models/cell_presence_pb";
import { ProtoRoutesSchema, type DesiredLRP, type DesiredLRPUpdate } from "../gen/models/desired_lrp_pb";
import {
  DesireLRPRequestSchema,
  DesiredLRPByProcessGuidRequestSchema,
  DesiredLRPsRequestSchema,
  RemoveDesiredLRPRequestSchema,
  UpdateDesiredLRPRequestSchema,
  type DesireLRPRequest,
  type DesiredLRPByProcessGuidRequest,
  type RemoveDesiredLRPRequest,
  type UpdateDesiredLRPRequest,
} from "../gen/models/desired_lrp_requests_pb";
import { UpsertDomainRequestSchema, type UpsertDomainRequest } from "../gen/models/domain_pb";
import {
  EvacuateClaimedActualLRPRequestSchema,
  EvacuateCrashedActualLRPRequestSchema,
  EvacuateRunningActualLRPRequestSchema,
  EvacuateStoppedActualLRPRequestSchema,
  RemoveEvacuatingActualLRPRequestSchema,
  type EvacuateClaimedActualLRPRequest,
  type EvacuateCrashedActualLRPRequest,
  type EvacuateRunningActualLRPRequest,
  type EvacuateStoppedActualLRPRequest,
  type RemoveEvacuatingActualLRPRequest,
} from "../gen/models/evacuation_pb";
import type { SecurityGroupRule } from "../gen/models/security_group_pb";
import type { Task, TaskDefinition } from "../gen/models/task_pb";
import {
  CompleteTaskRequestSchema,
  ConvergeTasksRequestSchema,
  DesireTaskRequestSchema,
  FailTaskRequestSchema,
  StartTaskRequestSchema,
  TaskByGuidRequestSchema,
  TaskGuidRequestSchema,
  TasksRequestSchema,
  type CompleteTaskRequest,
  type DesireTaskRequest,
  type FailTaskRequest,
  type StartTaskRequest,
  type TaskByGuidRequest,
  type TaskGuidRequest,
} from "../gen/models/task_requests_pb";

/** Limits from the original's models/models.go. */
export const maximumAnnotationLength = 10 * 1024;
export const maximumRouteLength = 4 * 1024;

export const invalidActionType = "invalid action type";
export const invalidField = (name: string) => `Invalid field: ${name}`;

/** Wire §6.2: the members' texts in the order they were appended. */
export const validationMessage = (errors: readonly string[]): string => errors.join(", ");

const guidPattern = /^[a-zA-Z0-9_-]+$/;
export const isGuid = (value: string): boolean => guidPattern.test(value);

/** Wire §7.2: what Go's url.Parse accepts with a non-empty scheme. */
export const isURLWithScheme = (value: string): boolean => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value);

/** Deviation 2 in the header: a value used as one store-key segment must stay one segment. */
export const isSafeKeySegment = (value: string): boolean => value !== "" && value !== "." && value !== ".." && !value.includes("/");

/** Go's len(string) counts UTF-8 bytes. */
const byteLength = (value: string) => Buffer.byteLength(value, "utf8");

/** Go's strings.TrimSpace(s) != "" (unicode.IsSpace differs from JS trim() on U+0085 and U+FEFF). */
const goBlank = (value: string) => /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/.test(value);

// ---------------------------------------------------------------------------------------------------
// Actions

/**
 * The action's value is its first present member in field order (gogoproto onlyone, wire §3.7); an
 * Action with none present is an empty wrapper and validates as `invalid action type` (deviation 1).
 */
export function validateAction(action: Action): string[] {
  if (action.downloadAction) {
    const a = action.downloadAction;
    return fields([a.from === "", "from"], [a.to === "", "to"], [a.user === "", "user"]);
  }
  if (action.uploadAction) {
    const a = action.uploadAction;
    return fields([a.to === "", "to"], [a.from === "", "from"], [a.user === "", "user"]);
  }
  if (action.runAction) {
    const a = action.runAction;
    return fields([a.path === "", "path"], [a.user === "", "user"]);
  }
  if (action.timeoutAction) {
    const a = action.timeoutAction;
    return [...innerAction(a.action), ...fields([a.timeout <= 0n, "timeout"])];
  }
  if (action.emitProgressAction) return innerAction(action.emitProgressAction.action);
  if (action.tryAction) return innerAction(action.tryAction.action);
  const list = action.parallelAction ?? action.serialAction ?? action.codependentAction;
  if (list) return list.actions.length === 0 ? [invalidField("actions")] : list.actions.flatMap(validateAction);
  return [invalidActionType];
}

const innerAction = (action: Action | undefined): string[] => (action ? validateAction(action) : [invalidField("action")]);

function fields(...checks: [failed: boolean, name: string][]): string[] {
  return checks.filter(([failed]) => failed).map(([, name]) => invalidField(name));
}

// ---------------------------------------------------------------------------------------------------
// Security group rules and destinations

const protocols = { tcp: "tcp", udp: "udp", icmp: "icmp", all: "all" } as const;

export function validateSecurityGroupRule(rule: SecurityGroupRule): string[] {
  // The original tested Go slices against nil; a decoded repeated field is nil exactly when empty.
  const hasPorts = rule.ports.length > 0;
  const hasRange = rule.portRange !== undefined;
  const hasICMP = rule.icmpInfo !== undefined;
  const errors: string[] = [];
  switch (rule.protocol) {
    case protocols.tcp:
      errors.push(...validatePorts(rule), ...fields([hasICMP, "icmp_info"]));
      break;
    case protocols.udp:
      errors.push(...validatePorts(rule), ...fields([hasICMP, "icmp_info"], [rule.log, "log"]));
      break;
    case protocols.icmp:
      errors.push(...fields([hasRange, "port_range"], [hasPorts, "ports"], [!hasICMP, "icmp_info"], [rule.log, "log"]));
      break;
    case protocols.all:
      errors.push(...fields([hasRange, "port_range"], [hasPorts, "ports"], [hasICMP, "icmp_info"]));
      break;
    default:
      errors.push(invalidField("protocol"));
  }
  if (rule.destinations.length === 0) {
    errors.push(invalidField("destinations [ Must have at least 1 destination ]"));
  } else {
    const destinationErrors = rule.destinations.flatMap(destinationErrorsOf);
    if (destinationErrors.length > 0) errors.push(invalidField(`destinations [ ${validationMessage(destinationErrors)} ]`));
  }
  return errors;
}

function validatePorts(rule: SecurityGroupRule): string[] {
  const range = rule.portRange;
  const hasPorts = rule.ports.length > 0;
  if (!range && !hasPorts) return ["Missing required field: ports or port_range"];
  if (range && hasPorts) return ["Invalid: ports and port_range provided"];
  if (range) return fields([range.start < 1, "port_range"], [range.end < 1, "port_range"], [range.start > range.end, "port_range"]);
  return rule.ports.filter((port) => port < 1).map(() => invalidField("ports"));
}

const invalidIP = "Invalid IP";

/** One destination: an IP, a CIDR (the first of `-`/`/` is `/`) or a range `a-b` with a <= b. */
function destinationErrorsOf(destination: string): string[] {
  const n = destination.search(/[-/]/);
  if (n === -1) return parseIP(destination) ? [] : [invalidIP];
  if (destination[n] === "/") return parseCIDR(destination) ? [] : [`invalid CIDR address: ${destination}`];
  const first = parseIP(destination.slice(0, n));
  const second = parseIP(destination.slice(n + 1));
  if (!first || !second) return [invalidIP];
  // The original's loop does not stop at the first greater byte, so "10.9.9.9-10.1.1.1" yields the
  // text three times; it stops only at the first smaller byte.
  const errors: string[] = [];
  for (let i = 0; i < 16; i++) {
    const a = first[i]!;
    const b = second[i]!;
    if (a < b) break;
    if (a > b) errors.push(invalidIP);
  }
  return errors;
}

// IP parsing reproduces Go's net package of 2015 (Go 1.5), which the original was built with. Results
// are in the 16-byte form (IPv4 as ::ffff:a.b.c.d). Notable differences from node:net isIP: IPv4
// octets may have leading zeros ("010.0.0.1" is 10.0.0.1), IPv6 groups may have more than four hex
// digits if the value fits ("00001::"), and zones ("fe80::1%en0") are refused.

const goBig = 0xffffff;

/** Go's dtoi: at least one decimal digit from i0. */
function decimalAt(s: string, i0: number): { n: number; i: number } | undefined {
  let n = 0;
  let i = i0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    if (n >= goBig) return undefined;
  }
  return i === i0 ? undefined : { n, i };
}

/** Go's xtoi: at least one hex digit from i0. */
function hexAt(s: string, i0: number): { n: number; i: number } | undefined {
  let n = 0;
  let i = i0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) digit = c - 0x41 + 10;
    else break;
    n = n * 16 + digit;
    if (n >= goBig) return undefined;
  }
  return i === i0 ? undefined : { n, i };
}

function parseIPv4(s: string): Uint8Array | undefined {
  const ip = new Uint8Array(16);
  ip[10] = 0xff;
  ip[11] = 0xff;
  let i = 0;
  for (let j = 0; j < 4; j++) {
    if (i >= s.length) return undefined;
    if (j > 0) {
      if (s[i] !== ".") return undefined;
      i++;
    }
    const octet = decimalAt(s, i);
    if (!octet || octet.n > 0xff) return undefined;
    ip[12 + j] = octet.n;
    i = octet.i;
  }
  return i === s.length ? ip : undefined;
}

function parseIPv6(s: string): Uint8Array | undefined {
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  let i = 0;
  if (s.startsWith("::")) {
    ellipsis = 0;
    i = 2;
    if (i === s.length) return ip;
  }
  let j = 0;
  while (j < 16) {
    const group = hexAt(s, i);
    if (!group || group.n > 0xffff) return undefined;
    if (group.i < s.length && s[group.i] === ".") {
      // A trailing dotted IPv4 part fills the last four bytes (or follows an ellipsis).
      if (ellipsis < 0 && j !== 12) return undefined;
      if (j + 4 > 16) return undefined;
      const v4 = parseIPv4(s.slice(i));
      if (!v4) return undefined;
      ip.set(v4.subarray(12), j);
      i = s.length;
      j += 4;
      break;
    }
    ip[j] = group.n >> 8;
    ip[j + 1] = group.n & 0xff;
    j += 2;
    i = group.i;
    if (i === s.length) break;
    if (s[i] !== ":" || i + 1 === s.length) return undefined;
    i++;
    if (s[i] === ":") {
      if (ellipsis >= 0) return undefined;
      ellipsis = j;
      if (++i === s.length) break;
    }
  }
  if (i !== s.length) return undefined;
  if (j < 16) {
    if (ellipsis < 0) return undefined;
    const gap = 16 - j;
    ip.copyWithin(ellipsis + gap, ellipsis, j);
    ip.fill(0, ellipsis, ellipsis + gap);
  } else if (ellipsis >= 0) {
    return undefined; // an ellipsis must stand for at least one group
  }
  return ip;
}

/** Go's net.ParseIP: the first `.` or `:` decides the family. */
export function parseIP(s: string): Uint8Array | undefined {
  for (const c of s) {
    if (c === ".") return parseIPv4(s);
    if (c === ":") return parseIPv6(s);
  }
  return undefined;
}

/** Go's net.ParseCIDR, reduced to "does it parse": the address and its prefix length. */
export function parseCIDR(s: string): { ip: Uint8Array; bits: number } | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const address = s.slice(0, slash);
  const mask = s.slice(slash + 1);
  let maxBits = 32;
  let ip = parseIPv4(address);
  if (!ip) {
    maxBits = 128;
    ip = parseIPv6(address);
  }
  const bits = decimalAt(mask, 0);
  if (!ip || !bits || bits.i !== mask.length || bits.n > maxBits) return undefined;
  return { ip, bits: bits.n };
}

// ---------------------------------------------------------------------------------------------------
// Routes

/** Sum of the route values' byte lengths; Infinity when the bytes are not a ProtoRoutes (deviation 3). */
function routesLength(routes: Uint8Array | undefined): number {
  if (!routes || routes.length === 0) return 0;
  try {
    const decoded = fromBinary(ProtoRoutesSchema, routes);
    return Object.values(decoded.routes).reduce((sum, value) => sum + value.length, 0);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

// ---------------------------------------------------------------------------------------------------
// Models

export function validateDesiredLRP(desired: DesiredLRP): string[] {
  const errors = fields(
    [desired.domain === "", "domain"],
    [!isGuid(desired.processGuid), "process_guid"],
    // Both rootfs checks run, so an empty rootfs is reported twice (unlike TaskDefinition).
    [desired.rootFs === "", "rootfs"],
    [!isURLWithScheme(desired.rootFs), "rootfs"],
  );
  if (desired.setup) errors.push(...validateAction(desired.setup));
  errors.push(...(desired.action ? validateAction(desired.action) : [invalidActionType]));
  if (desired.monitor) errors.push(...validateAction(desired.monitor));
  errors.push(
    ...fields(
      [desired.instances < 0, "instances"],
      [desired.cpuWeight > 100, "cpu_weight"],
      [byteLength(desired.annotation) > maximumAnnotationLength, "annotation"],
      [routesLength(desired.routes) > maximumRouteLength, "routes"],
    ),
  );
  for (const rule of desired.egressRules) {
    const ruleErrors = validateSecurityGroupRule(rule);
    if (ruleErrors.length > 0) errors.push(invalidField("egress_rules"), ...ruleErrors);
  }
  return errors;
}

/** Absent fields read as their zero values, which always pass. */
export function validateDesiredLRPUpdate(update: DesiredLRPUpdate): string[] {
  return fields(
    [update.instances < 0, "instances"],
    [byteLength(update.annotation) > maximumAnnotationLength, "annotation"],
    [routesLength(update.routes) > maximumRouteLength, "routes"],
  );
}

export function validateTaskDefinition(definition: TaskDefinition): string[] {
  const errors = fields([definition.rootFs === "" || !isURLWithScheme(definition.rootFs), "rootfs"]);
  errors.push(...(definition.action ? validateAction(definition.action) : [invalidActionType]));
  errors.push(
    ...fields(
      [definition.cpuWeight > 100, "cpu_weight"],
      [byteLength(definition.annotation) > maximumAnnotationLength, "annotation"],
    ),
  );
  // Unlike DesiredLRP, the rule's own messages are not appended.
  for (const rule of definition.egressRules) {
    if (validateSecurityGroupRule(rule).length > 0) errors.push(invalidField("egress_rules"));
  }
  return errors;
}

export function validateTask(task: Task): string[] {
  const errors = fields([task.domain === "", "domain"], [!isGuid(task.taskGuid), "task_guid"]);
  errors.push(...(task.taskDefinition ? validateTaskDefinition(task.taskDefinition) : [invalidField("task_definition")]));
  return errors;
}

/** process_guid has no pattern here (Surprise #11), only the traversal guard. */
export function validateActualLRPKey(key: ActualLRPKey): string[] {
  return fields([!isSafeKeySegment(key.processGuid), "process_guid"], [key.index < 0, "index"], [key.domain === "", "domain"]);
}

/** cell_id is checked before instance_guid. */
export function validateActualLRPInstanceKey(key: ActualLRPInstanceKey): string[] {
  return fields([!isSafeKeySegment(key.cellId), "cell_id"], [key.instanceGuid === "", "instance_guid"]);
}

/** Ports are not checked. */
export function validateActualLRPNetInfo(info: ActualLRPNetInfo): string[] {
  return fields([info.address === "", "address"]);
}

const emptyInstanceKey = (key: ActualLRPInstanceKey | undefined) => !key || (key.instanceGuid === "" && key.cellId === "");
const emptyNetInfo = (info: ActualLRPNetInfo | undefined) => !info || (info.address === "" && info.ports.length === 0);
const zeroKey: ActualLRPKey = { $typeName: "models.ActualLRPKey", processGuid: "", index: 0, domain: "" };
const zeroInstanceKey: ActualLRPInstanceKey = { $typeName: "models.ActualLRPInstanceKey", instanceGuid: "", cellId: "" };
const zeroNetInfo: ActualLRPNetInfo = { $typeName: "models.ActualLRPNetInfo", address: "", ports: [] };

/**
 * The record rules used before an ActualLRP is written (semantics §2.1). The three embedded keys are
 * non-nullable in the original, so an absent one is validated as its empty value.
 */
export function validateActualLRP(actual: ActualLRP): string[] {
  const errors = [...validateActualLRPKey(actual.actualLrpKey ?? zeroKey), ...fields([actual.since === 0n, "since"])];
  const instanceKey = actual.actualLrpInstanceKey;
  const netInfo = actual.actualLrpNetInfo;
  const placementErrorSet = !goBlank(actual.placementError);
  const must = (ok: boolean, text: string) => {
    if (!ok) errors.push(text);
  };
  switch (actual.state) {
    case "UNCLAIMED":
      must(emptyInstanceKey(instanceKey), "instance key cannot be set when state is unclaimed");
      must(emptyNetInfo(netInfo), "net info cannot be set when state is unclaimed");
      break;
    case "CLAIMED":
      errors.push(...validateActualLRPInstanceKey(instanceKey ?? zeroInstanceKey));
      must(emptyNetInfo(netInfo), "net info cannot be set when state is claimed");
      must(!placementErrorSet, "placement error cannot be set when state is claimed");
      break;
    case "RUNNING":
      errors.push(...validateActualLRPInstanceKey(instanceKey ?? zeroInstanceKey));
      errors.push(...validateActualLRPNetInfo(netInfo ?? zeroNetInfo));
      must(!placementErrorSet, "placement error cannot be set when state is running");
      break;
    case "CRASHED":
      must(emptyInstanceKey(instanceKey), "instance key cannot be set when state is crashed");
      must(emptyNetInfo(netInfo), "net info cannot be set when state is crashed");
      must(!placementErrorSet, "placement error cannot be set when state is crashed");
      break;
    default:
      errors.push(invalidField("state"));
  }
  return errors;
}

/** Ours (cell presence replaces consul): rep_address must be an absolute http(s) URL. */
export function validateCellPresence(presence: CellPresence): string[] {
  return fields([!isSafeKeySegment(presence.cellId), "cell_id"], [!isHTTPURL(presence.repAddress), "rep_address"]);
}

function isHTTPURL(value: string): boolean {
  if (value === "") return false;
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Requests (wire §7.1)

const present = <T>(value: T | undefined, name: string, rules: (value: T) => string[]): string[] =>
  value === undefined ? [invalidField(name)] : rules(value);

const keyRules = (key: ActualLRPKey | undefined) => present(key, "actual_lrp_key", validateActualLRPKey);
const instanceKeyRules = (key: ActualLRPInstanceKey | undefined) => present(key, "actual_lrp_instance_key", validateActualLRPInstanceKey);
const netInfoRules = (info: ActualLRPNetInfo | undefined) => present(info, "actual_lrp_net_info", validateActualLRPNetInfo);
const processGuidRule = (processGuid: string) => fields([!isSafeKeySegment(processGuid), "process_guid"]);

export const validateUpsertDomainRequest = (req: UpsertDomainRequest) => fields([!isSafeKeySegment(req.domain), "domain"]);

export const validateActualLRPGroupsByProcessGuidRequest = (req: ActualLRPGroupsByProcessGuidRequest) => processGuidRule(req.processGuid);

export const validateActualLRPGroupByProcessGuidAndIndexRequest = (req: ActualLRPGroupByProcessGuidAndIndexRequest) => [
  ...processGuidRule(req.processGuid),
  ...fields([req.index < 0, "index"]),
];

/** index is not checked (Surprise #11). */
export const validateClaimActualLRPRequest = (req: ClaimActualLRPRequest) => [
  ...processGuidRule(req.processGuid),
  ...instanceKeyRules(req.actualLrpInstanceKey),
];

export const validateStartActualLRPRequest = (req: StartActualLRPRequest) => [
  ...keyRules(req.actualLrpKey),
  ...instanceKeyRules(req.actualLrpInstanceKey),
  ...netInfoRules(req.actualLrpNetInfo),
];

/** error_message may be empty here, unlike Fail and EvacuateCrashed. */
export const validateCrashActualLRPRequest = (req: CrashActualLRPRequest) => [
  ...keyRules(req.actualLrpKey),
  ...instanceKeyRules(req.actualLrpInstanceKey),
];

export const validateFailActualLRPRequest = (req: FailActualLRPRequest) => [
  ...keyRules(req.actualLrpKey),
  ...fields([req.errorMessage === "", "error_message"]),
];

export const validateRetireActualLRPRequest = (req: RetireActualLRPRequest) => keyRules(req.actualLrpKey);

export const validateRemoveActualLRPRequest = (req: RemoveActualLRPRequest) => [
  ...processGuidRule(req.processGuid),
  ...fields([req.index < 0, "index"]),
];

type KeyAndInstance = { actualLrpKey?: ActualLRPKey | undefined; actualLrpInstanceKey?: ActualLRPInstanceKey | undefined };
const keyAndInstanceRules = (req: KeyAndInstance) => [...keyRules(req.actualLrpKey), ...instanceKeyRules(req.actualLrpInstanceKey)];

export const validateRemoveEvacuatingActualLRPRequest = (req: RemoveEvacuatingActualLRPRequest) => keyAndInstanceRules(req);
export const validateEvacuateClaimedActualLRPRequest = (req: EvacuateClaimedActualLRPRequest) => keyAndInstanceRules(req);
export const validateEvacuateStoppedActualLRPRequest = (req: EvacuateStoppedActualLRPRequest) => keyAndInstanceRules(req);

export const validateEvacuateCrashedActualLRPRequest = (req: EvacuateCrashedActualLRPRequest) => [
  ...keyAndInstanceRules(req),
  ...fields([req.errorMessage === "", "error_message"]),
];

/** ttl is not checked. */
export const validateEvacuateRunningActualLRPRequest = (req: EvacuateRunningActualLRPRequest) => [
  ...keyAndInstanceRules(req),
  ...netInfoRules(req.actualLrpNetInfo),
];

export const validateDesiredLRPByProcessGuidRequest = (req: DesiredLRPByProcessGuidRequest) => processGuidRule(req.processGuid);

export const validateDesireLRPRequest = (req: DesireLRPRequest) => present(req.desiredLrp, "desired_lrp", validateDesiredLRP);

/** A missing update is refused here; the original let it through and panicked (deviation 1). */
export const validateUpdateDesiredLRPRequest = (req: UpdateDesiredLRPRequest) => [
  ...processGuidRule(req.processGuid),
  ...present(req.update, "update", validateDesiredLRPUpdate),
];

export const validateRemoveDesiredLRPRequest = (req: RemoveDesiredLRPRequest) => processGuidRule(req.processGuid);

/** Any non-empty guid passes the original here (no pattern), so only the traversal guard is added. */
export const validateTaskByGuidRequest = (req: TaskByGuidRequest) => fields([!isSafeKeySegment(req.taskGuid), "task_guid"]);
export const validateTaskGuidRequest = (req: TaskGuidRequest) => fields([!isSafeKeySegment(req.taskGuid), "task_guid"]);

export const validateDesireTaskRequest = (req: DesireTaskRequest) => [
  ...fields([!isGuid(req.taskGuid), "task_guid"], [req.domain === "", "domain"]),
  ...present(req.taskDefinition, "task_definition", validateTaskDefinition),
];

export const validateStartTaskRequest = (req: StartTaskRequest) =>
  fields([!isGuid(req.taskGuid), "task_guid"], [!isSafeKeySegment(req.cellId), "cell_id"]);

export const validateCompleteTaskRequest = (req: CompleteTaskRequest) =>
  fields([!isGuid(req.taskGuid), "task_guid"], [!isSafeKeySegment(req.cellId), "cell_id"]);

export const validateFailTaskRequest = (req: FailTaskRequest) =>
  fields([!isGuid(req.taskGuid), "task_guid"], [req.failureReason === "", "failure_reason"]);

export const validateUpsertCellPresenceRequest = (req: UpsertCellPresenceRequest) => [
  ...present(req.cellPresence, "cell_presence", validateCellPresence),
  ...fields([req.ttl === 0, "ttl"]),
];

const noRules = () => [];

type RequestValidator = (msg: Message) => string[];

function entry<T extends Message>(schema: GenMessage<T>, validate: (msg: T) => string[]): [string, RequestValidator] {
  return [schema.typeName, (msg) => validate(msg as T)];
}

/** Validators by request message type name (e.g. "models.DesireLRPRequest"). */
export const requestValidators: Record<string, RequestValidator> = Object.fromEntries([
  entry(UpsertDomainRequestSchema, validateUpsertDomainRequest),
  entry(ActualLRPGroupsRequestSchema, noRules),
  entry(ActualLRPGroupsByProcessGuidRequestSchema, validateActualLRPGroupsByProcessGuidRequest),
  entry(ActualLRPGroupByProcessGuidAndIndexRequestSchema, validateActualLRPGroupByProcessGuidAndIndexRequest),
  entry(ClaimActualLRPRequestSchema, validateClaimActualLRPRequest),
  entry(StartActualLRPRequestSchema, validateStartActualLRPRequest),
  entry(CrashActualLRPRequestSchema, validateCrashActualLRPRequest),
  entry(FailActualLRPRequestSchema, validateFailActualLRPRequest),
  entry(RetireActualLRPRequestSchema, validateRetireActualLRPRequest),
  entry(RemoveActualLRPRequestSchema, validateRemoveActualLRPRequest),
  entry(RemoveEvacuatingActualLRPRequestSchema, validateRemoveEvacuatingActualLRPRequest),
  entry(EvacuateClaimedActualLRPRequestSchema, validateEvacuateClaimedActualLRPRequest),
  entry(EvacuateStoppedActualLRPRequestSchema, validateEvacuateStoppedActualLRPRequest),
  entry(EvacuateCrashedActualLRPRequestSchema, validateEvacuateCrashedActualLRPRequest),
  entry(EvacuateRunningActualLRPRequestSchema, validateEvacuateRunningActualLRPRequest),
  entry(DesiredLRPsRequestSchema, noRules),
  entry(DesiredLRPByProcessGuidRequestSchema, validateDesiredLRPByProcessGuidRequest),
  entry(DesireLRPRequestSchema, validateDesireLRPRequest),
  entry(UpdateDesiredLRPRequestSchema, validateUpdateDesiredLRPRequest),
  entry(RemoveDesiredLRPRequestSchema, validateRemoveDesiredLRPRequest),
  entry(TasksRequestSchema, noRules),
  entry(ConvergeTasksRequestSchema, noRules),
  entry(TaskByGuidRequestSchema, validateTaskByGuidRequest),
  entry(TaskGuidRequestSchema, validateTaskGuidRequest),
  entry(DesireTaskRequestSchema, validateDesireTaskRequest),
  entry(StartTaskRequestSchema, validateStartTaskRequest),
  entry(CompleteTaskRequestSchema, validateCompleteTaskRequest),
  entry(FailTaskRequestSchema, validateFailTaskRequest),
  entry(UpsertCellPresenceRequestSchema, validateUpsertCellPresenceRequest),
]);
