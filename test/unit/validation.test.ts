import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ActionSchema, type Action } from "../../core/gen/models/actions_pb";
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
} from "../../core/gen/models/actual_lrp_requests_pb";
import {
  ActualLRPInstanceKeySchema,
  ActualLRPKeySchema,
  ActualLRPNetInfoSchema,
  ActualLRPSchema,
} from "../../core/gen/models/actual_lrp_pb";
import { CellPresenceSchema, UpsertCellPresenceRequestSchema } from "../../core/gen/models/cell_presence_pb";
import { DesiredLRPSchema, DesiredLRPUpdateSchema, ProtoRoutesSchema } from "../../core/gen/models/desired_lrp_pb";
import {
  DesireLRPRequestSchema,
  DesiredLRPByProcessGuidRequestSchema,
  DesiredLRPsRequestSchema,
  RemoveDesiredLRPRequestSchema,
  UpdateDesiredLRPRequestSchema,
} from "../../core/gen/models/desired_lrp_requests_pb";
import { UpsertDomainRequestSchema } from "../../core/gen/models/domain_pb";
import {
  EvacuateClaimedActualLRPRequestSchema,
  EvacuateCrashedActualLRPRequestSchema,
  EvacuateRunningActualLRPRequestSchema,
  EvacuateStoppedActualLRPRequestSchema,
  RemoveEvacuatingActualLRPRequestSchema,
} from "../../core/gen/models/evacuation_pb";
import { SecurityGroupRuleSchema } from "../../core/gen/models/security_group_pb";
import { TaskDefinitionSchema, TaskSchema } from "../../core/gen/models/task_pb";
import {
  CompleteTaskRequestSchema,
  ConvergeTasksRequestSchema,
  DesireTaskRequestSchema,
  FailTaskRequestSchema,
  StartTaskRequestSchema,
  TaskByGuidRequestSchema,
  TaskGuidRequestSchema,
  TasksRequestSchema,
} from "../../core/gen/models/task_requests_pb";
import {
  isGuid,
  isSafeKeySegment,
  isURLWithScheme,
  parseCIDR,
  parseIP,
  requestValidators,
  validateAction,
  validateActualLRP,
  validateActualLRPInstanceKey,
  validateActualLRPKey,
  validateActualLRPNetInfo,
  validateCellPresence,
  validateDesiredLRP,
  validateDesiredLRPUpdate,
  validateSecurityGroupRule,
  validateTask,
  validateTaskDefinition,
  validationMessage,
} from "../../core/models/validation";

// ---- builders ------------------------------------------------------------------------------------

/** Validates a request through the map the handlers use, so the map's coverage is tested too. */
function check<Desc extends DescMessage>(schema: Desc, init?: MessageInitShape<Desc>): string {
  const validator = requestValidators[schema.typeName];
  if (!validator) throw new Error(`no validator for ${schema.typeName}`);
  return validationMessage(validator(create(schema, init)));
}

const key = (o: MessageInitShape<typeof ActualLRPKeySchema> = {}) =>
  create(ActualLRPKeySchema, { processGuid: "pg", index: 0, domain: "d", ...o });
const instanceKey = (o: MessageInitShape<typeof ActualLRPInstanceKeySchema> = {}) =>
  create(ActualLRPInstanceKeySchema, { instanceGuid: "ig", cellId: "cell", ...o });
const netInfo = (o: MessageInitShape<typeof ActualLRPNetInfoSchema> = {}) =>
  create(ActualLRPNetInfoSchema, { address: "10.0.0.1", ...o });

const run = (o: { path?: string; user?: string } = {}): Action =>
  create(ActionSchema, { runAction: { path: "/bin/true", user: "vcap", ...o } });
const download = (o: { from?: string; to?: string; user?: string } = {}): Action =>
  create(ActionSchema, { downloadAction: { from: "http://x", to: "/tmp", user: "vcap", ...o } });
const upload = (o: { from?: string; to?: string; user?: string } = {}): Action =>
  create(ActionSchema, { uploadAction: { from: "/tmp", to: "http://x", user: "vcap", ...o } });
const emptyAction = (): Action => create(ActionSchema, {});

const rule = (o: MessageInitShape<typeof SecurityGroupRuleSchema> = {}) =>
  create(SecurityGroupRuleSchema, { protocol: "tcp", destinations: ["0.0.0.0/0"], ports: [80], ...o });

const routeBytes = (values: Record<string, number>) =>
  toBinary(
    ProtoRoutesSchema,
    create(ProtoRoutesSchema, {
      routes: Object.fromEntries(Object.entries(values).map(([k, n]) => [k, new TextEncoder().encode("x".repeat(n))])),
    }),
  );

const desiredLRP = (o: MessageInitShape<typeof DesiredLRPSchema> = {}) =>
  create(DesiredLRPSchema, { processGuid: "process-guid_1", domain: "d", rootFs: "docker:///busybox", instances: 1, action: run(), ...o });

const taskDefinition = (o: MessageInitShape<typeof TaskDefinitionSchema> = {}) =>
  create(TaskDefinitionSchema, { rootFs: "preloaded:cflinuxfs2", action: run(), ...o });

const actualLRP = (o: MessageInitShape<typeof ActualLRPSchema> = {}) =>
  create(ActualLRPSchema, { actualLrpKey: key(), state: "UNCLAIMED", since: 1n, ...o });

const F = (name: string) => `Invalid field: ${name}`;
const traversal = ["a/b", ".", "..", "../desired", "/"];

// ---- format and helpers --------------------------------------------------------------------------

describe("validationMessage (wire §6.2)", () => {
  it("joins the texts with a comma and a space in append order", () => {
    expect(validationMessage([F("process_guid"), F("index")])).toBe("Invalid field: process_guid, Invalid field: index");
  });
  it("is empty for no errors", () => {
    expect(validationMessage([])).toBe("");
  });
});

describe("isGuid", () => {
  it.each(["abc", "A-b_9", "-", "_"])("accepts %j", (guid) => expect(isGuid(guid)).toBe(true));
  it.each(["", "a b", "a/b", "a.b", "ü", "abc\n"])("refuses %j", (guid) => expect(isGuid(guid)).toBe(false));
});

describe("isURLWithScheme", () => {
  it.each(["docker:///x", "preloaded:cflinuxfs2", "some:rootfs", "a+b.c-d:", "http://example.com/x"])("accepts %j", (url) =>
    expect(isURLWithScheme(url)).toBe(true),
  );
  it.each(["", "rootfs", "/path/x", ":nope", "1abc:x", "a b:c", "#a:b", "a_b:c"])("refuses %j", (url) =>
    expect(isURLWithScheme(url)).toBe(false),
  );
});

describe("isSafeKeySegment (traversal guard, a deliberate deviation: wire Surprise #19)", () => {
  it.each(["abc", "a.b", "...", "a..b", "a\\b"])("accepts %j", (s) => expect(isSafeKeySegment(s)).toBe(true));
  it.each(["", ...traversal])("refuses %j", (s) => expect(isSafeKeySegment(s)).toBe(false));
});

// ---- §7.1 requests -------------------------------------------------------------------------------

describe("requestValidators map", () => {
  it("covers every request message that has rules", () => {
    const withRules = [
      UpsertDomainRequestSchema,
      ActualLRPGroupsByProcessGuidRequestSchema,
      ActualLRPGroupByProcessGuidAndIndexRequestSchema,
      ClaimActualLRPRequestSchema,
      StartActualLRPRequestSchema,
      CrashActualLRPRequestSchema,
      FailActualLRPRequestSchema,
      RetireActualLRPRequestSchema,
      RemoveActualLRPRequestSchema,
      RemoveEvacuatingActualLRPRequestSchema,
      EvacuateClaimedActualLRPRequestSchema,
      EvacuateStoppedActualLRPRequestSchema,
      EvacuateCrashedActualLRPRequestSchema,
      EvacuateRunningActualLRPRequestSchema,
      DesiredLRPByProcessGuidRequestSchema,
      DesireLRPRequestSchema,
      UpdateDesiredLRPRequestSchema,
      RemoveDesiredLRPRequestSchema,
      TaskByGuidRequestSchema,
      TaskGuidRequestSchema,
      DesireTaskRequestSchema,
      StartTaskRequestSchema,
      CompleteTaskRequestSchema,
      FailTaskRequestSchema,
      UpsertCellPresenceRequestSchema,
    ];
    for (const schema of withRules) expect(requestValidators[schema.typeName], schema.typeName).toBeTypeOf("function");
  });

  it.each([ActualLRPGroupsRequestSchema, DesiredLRPsRequestSchema, TasksRequestSchema, ConvergeTasksRequestSchema])(
    "has no rules for $typeName",
    (schema) => {
      expect(check(schema)).toBe("");
    },
  );

  it("does not check the filters of list requests", () => {
    expect(check(ActualLRPGroupsRequestSchema, { domain: "../x", cellId: "a/b" })).toBe("");
    expect(check(TasksRequestSchema, { domain: "", cellId: ".." })).toBe("");
  });

  it("accepts negative convergence durations", () => {
    expect(check(ConvergeTasksRequestSchema, { kickTaskDuration: -1n })).toBe("");
  });
});

describe("UpsertDomainRequest", () => {
  it("requires a domain", () => expect(check(UpsertDomainRequestSchema, { domain: "" })).toBe(F("domain")));
  it("does not check ttl", () => expect(check(UpsertDomainRequestSchema, { domain: "cf-apps", ttl: 0 })).toBe(""));
  it.each(traversal)("refuses the key segment %j (traversal guard)", (domain) =>
    expect(check(UpsertDomainRequestSchema, { domain })).toBe(F("domain")),
  );
});

describe("ActualLRPGroupsByProcessGuidRequest", () => {
  it("requires process_guid", () => expect(check(ActualLRPGroupsByProcessGuidRequestSchema, {})).toBe(F("process_guid")));
  it("has no pattern check", () => expect(check(ActualLRPGroupsByProcessGuidRequestSchema, { processGuid: "has space!" })).toBe(""));
  it.each(traversal)("refuses %j (traversal guard)", (processGuid) =>
    expect(check(ActualLRPGroupsByProcessGuidRequestSchema, { processGuid })).toBe(F("process_guid")),
  );
});

describe("ActualLRPGroupByProcessGuidAndIndexRequest", () => {
  it("reports process_guid then index", () =>
    expect(check(ActualLRPGroupByProcessGuidAndIndexRequestSchema, { processGuid: "", index: -1 })).toBe(
      "Invalid field: process_guid, Invalid field: index",
    ));
  it("accepts index 0", () => expect(check(ActualLRPGroupByProcessGuidAndIndexRequestSchema, { processGuid: "p", index: 0 })).toBe(""));
  it("refuses a traversal guid once", () =>
    expect(check(ActualLRPGroupByProcessGuidAndIndexRequestSchema, { processGuid: "..", index: 1 })).toBe(F("process_guid")));
});

describe("ClaimActualLRPRequest", () => {
  it("reports process_guid then a missing instance key", () =>
    expect(check(ClaimActualLRPRequestSchema, {})).toBe("Invalid field: process_guid, Invalid field: actual_lrp_instance_key"));
  it("applies the instance key rules, cell_id first", () =>
    expect(check(ClaimActualLRPRequestSchema, { processGuid: "p", actualLrpInstanceKey: { instanceGuid: "", cellId: "" } })).toBe(
      "Invalid field: cell_id, Invalid field: instance_guid",
    ));
  it("does not check the index (asymmetry)", () =>
    expect(check(ClaimActualLRPRequestSchema, { processGuid: "p", index: -5, actualLrpInstanceKey: instanceKey() })).toBe(""));
  it("refuses a traversal process_guid", () =>
    expect(check(ClaimActualLRPRequestSchema, { processGuid: "a/b", actualLrpInstanceKey: instanceKey() })).toBe(F("process_guid")));
  it("refuses a traversal cell_id", () =>
    expect(check(ClaimActualLRPRequestSchema, { processGuid: "p", actualLrpInstanceKey: instanceKey({ cellId: ".." }) })).toBe(
      F("cell_id"),
    ));
});

describe("StartActualLRPRequest", () => {
  it("reports the three missing parts in order", () =>
    expect(check(StartActualLRPRequestSchema, {})).toBe(
      "Invalid field: actual_lrp_key, Invalid field: actual_lrp_instance_key, Invalid field: actual_lrp_net_info",
    ));
  it("flattens the rules of each part in order", () =>
    expect(
      check(StartActualLRPRequestSchema, {
        actualLrpKey: { processGuid: "", index: -1, domain: "" },
        actualLrpInstanceKey: { instanceGuid: "", cellId: "" },
        actualLrpNetInfo: { address: "" },
      }),
    ).toBe(
      "Invalid field: process_guid, Invalid field: index, Invalid field: domain, Invalid field: cell_id, Invalid field: instance_guid, Invalid field: address",
    ));
  it("accepts a complete request", () =>
    expect(check(StartActualLRPRequestSchema, { actualLrpKey: key(), actualLrpInstanceKey: instanceKey(), actualLrpNetInfo: netInfo() })).toBe(
      "",
    ));
});

describe("CrashActualLRPRequest", () => {
  it("reports key then instance key", () =>
    expect(check(CrashActualLRPRequestSchema, {})).toBe("Invalid field: actual_lrp_key, Invalid field: actual_lrp_instance_key"));
  it("allows an empty error_message", () =>
    expect(check(CrashActualLRPRequestSchema, { actualLrpKey: key(), actualLrpInstanceKey: instanceKey(), errorMessage: "" })).toBe(""));
  it("applies the key rules", () =>
    expect(check(CrashActualLRPRequestSchema, { actualLrpKey: key({ domain: "" }), actualLrpInstanceKey: instanceKey() })).toBe(
      F("domain"),
    ));
});

describe("FailActualLRPRequest", () => {
  it("reports key then error_message", () =>
    expect(check(FailActualLRPRequestSchema, {})).toBe("Invalid field: actual_lrp_key, Invalid field: error_message"));
  it("applies the key rules", () =>
    expect(check(FailActualLRPRequestSchema, { actualLrpKey: key({ index: -1 }), errorMessage: "boom" })).toBe(F("index")));
  it("accepts a complete request", () => expect(check(FailActualLRPRequestSchema, { actualLrpKey: key(), errorMessage: "boom" })).toBe(""));
});

describe("RetireActualLRPRequest", () => {
  it("requires the key", () => expect(check(RetireActualLRPRequestSchema, {})).toBe(F("actual_lrp_key")));
  it("applies the key rules", () =>
    expect(check(RetireActualLRPRequestSchema, { actualLrpKey: key({ processGuid: "" }) })).toBe(F("process_guid")));
});

describe("RemoveActualLRPRequest", () => {
  it("reports process_guid then index", () =>
    expect(check(RemoveActualLRPRequestSchema, { index: -1 })).toBe("Invalid field: process_guid, Invalid field: index"));
  it("refuses a traversal guid", () => expect(check(RemoveActualLRPRequestSchema, { processGuid: "." })).toBe(F("process_guid")));
});

describe.each([RemoveEvacuatingActualLRPRequestSchema, EvacuateClaimedActualLRPRequestSchema, EvacuateStoppedActualLRPRequestSchema])(
  "$typeName",
  (schema) => {
    it("reports key then instance key", () =>
      expect(check(schema, {})).toBe("Invalid field: actual_lrp_key, Invalid field: actual_lrp_instance_key"));
    it("applies both rule sets", () =>
      expect(check(schema, { actualLrpKey: key({ domain: "" }), actualLrpInstanceKey: instanceKey({ instanceGuid: "" }) })).toBe(
        "Invalid field: domain, Invalid field: instance_guid",
      ));
    it("accepts a complete request", () => expect(check(schema, { actualLrpKey: key(), actualLrpInstanceKey: instanceKey() })).toBe(""));
  },
);

describe("EvacuateCrashedActualLRPRequest", () => {
  it("reports key, instance key, error_message", () =>
    expect(check(EvacuateCrashedActualLRPRequestSchema, {})).toBe(
      "Invalid field: actual_lrp_key, Invalid field: actual_lrp_instance_key, Invalid field: error_message",
    ));
  it("accepts a complete request", () =>
    expect(check(EvacuateCrashedActualLRPRequestSchema, { actualLrpKey: key(), actualLrpInstanceKey: instanceKey(), errorMessage: "x" })).toBe(
      "",
    ));
});

describe("EvacuateRunningActualLRPRequest", () => {
  it("reports key, instance key, net info", () =>
    expect(check(EvacuateRunningActualLRPRequestSchema, {})).toBe(
      "Invalid field: actual_lrp_key, Invalid field: actual_lrp_instance_key, Invalid field: actual_lrp_net_info",
    ));
  it("applies the net info rules and does not check ttl", () =>
    expect(
      check(EvacuateRunningActualLRPRequestSchema, {
        actualLrpKey: key(),
        actualLrpInstanceKey: instanceKey(),
        actualLrpNetInfo: { address: "" },
        ttl: 0n,
      }),
    ).toBe(F("address")));
});

describe("DesiredLRPByProcessGuidRequest / RemoveDesiredLRPRequest", () => {
  it.each([DesiredLRPByProcessGuidRequestSchema, RemoveDesiredLRPRequestSchema])("$typeName requires process_guid", (schema) =>
    expect(check(schema, {})).toBe(F("process_guid")),
  );
  it.each([DesiredLRPByProcessGuidRequestSchema, RemoveDesiredLRPRequestSchema])("$typeName has no pattern check", (schema) =>
    expect(check(schema, { processGuid: "a b!" })).toBe(""),
  );
  it.each([DesiredLRPByProcessGuidRequestSchema, RemoveDesiredLRPRequestSchema])("$typeName refuses a traversal guid", (schema) =>
    expect(check(schema, { processGuid: "../x" })).toBe(F("process_guid")),
  );
});

describe("DesireLRPRequest", () => {
  it("requires desired_lrp", () => expect(check(DesireLRPRequestSchema, {})).toBe(F("desired_lrp")));
  it("applies the DesiredLRP rules", () =>
    expect(check(DesireLRPRequestSchema, { desiredLrp: desiredLRP({ domain: "", instances: -1 }) })).toBe(
      "Invalid field: domain, Invalid field: instances",
    ));
  it("accepts a valid DesiredLRP", () => expect(check(DesireLRPRequestSchema, { desiredLrp: desiredLRP() })).toBe(""));
});

describe("UpdateDesiredLRPRequest", () => {
  it("reports process_guid then the update rules", () =>
    expect(check(UpdateDesiredLRPRequestSchema, { processGuid: "", update: { instances: -1 } })).toBe(
      "Invalid field: process_guid, Invalid field: instances",
    ));
  it("refuses a missing update (the original panicked in the handler: wire Surprise #8)", () => {
    expect(check(UpdateDesiredLRPRequestSchema, { processGuid: "p" })).toBe(F("update"));
    expect(check(UpdateDesiredLRPRequestSchema, {})).toBe("Invalid field: process_guid, Invalid field: update");
  });
  it("accepts an empty update", () => expect(check(UpdateDesiredLRPRequestSchema, { processGuid: "p", update: {} })).toBe(""));
  it("refuses a traversal guid", () => expect(check(UpdateDesiredLRPRequestSchema, { processGuid: "a/b", update: {} })).toBe(F("process_guid")));
});

describe.each([TaskByGuidRequestSchema, TaskGuidRequestSchema])("$typeName", (schema) => {
  it("requires task_guid", () => expect(check(schema, {})).toBe(F("task_guid")));
  it("has no pattern check (asymmetry)", () => expect(check(schema, { taskGuid: "not a guid!" })).toBe(""));
  it.each(traversal)("refuses %j (traversal guard)", (taskGuid) => expect(check(schema, { taskGuid })).toBe(F("task_guid")));
});

describe("DesireTaskRequest", () => {
  it("reports task_guid, domain, task_definition in order", () =>
    expect(check(DesireTaskRequestSchema, { taskGuid: "bad guid" })).toBe(
      "Invalid field: task_guid, Invalid field: domain, Invalid field: task_definition",
    ));
  it("enforces the guid pattern", () =>
    expect(check(DesireTaskRequestSchema, { taskGuid: "a.b", domain: "d", taskDefinition: taskDefinition() })).toBe(F("task_guid")));
  it("applies the TaskDefinition rules", () =>
    expect(check(DesireTaskRequestSchema, { taskGuid: "t", domain: "d", taskDefinition: taskDefinition({ cpuWeight: 101 }) })).toBe(
      F("cpu_weight"),
    ));
  it("accepts a valid request", () =>
    expect(check(DesireTaskRequestSchema, { taskGuid: "t-1", domain: "d", taskDefinition: taskDefinition() })).toBe(""));
});

describe.each([StartTaskRequestSchema, CompleteTaskRequestSchema])("$typeName", (schema) => {
  it("reports task_guid then cell_id", () => expect(check(schema, { taskGuid: "" })).toBe("Invalid field: task_guid, Invalid field: cell_id"));
  it("enforces the guid pattern", () => expect(check(schema, { taskGuid: "x/y", cellId: "c" })).toBe(F("task_guid")));
  it("refuses a traversal cell_id", () => expect(check(schema, { taskGuid: "t", cellId: ".." })).toBe(F("cell_id")));
  it("accepts a valid request", () => expect(check(schema, { taskGuid: "t", cellId: "c" })).toBe(""));
});

describe("FailTaskRequest", () => {
  it("reports task_guid then failure_reason", () =>
    expect(check(FailTaskRequestSchema, { taskGuid: "!" })).toBe("Invalid field: task_guid, Invalid field: failure_reason"));
  it("accepts a valid request", () => expect(check(FailTaskRequestSchema, { taskGuid: "t", failureReason: "r" })).toBe(""));
});

describe("UpsertCellPresenceRequest (ours)", () => {
  const presence = (o: MessageInitShape<typeof CellPresenceSchema> = {}) =>
    create(CellPresenceSchema, { cellId: "cell-1", repAddress: "http://10.0.0.1:1800", zone: "z1", ...o });

  it("reports a missing cell_presence then ttl", () =>
    expect(check(UpsertCellPresenceRequestSchema, { ttl: 0 })).toBe("Invalid field: cell_presence, Invalid field: ttl"));
  it("reports cell_id then rep_address", () =>
    expect(check(UpsertCellPresenceRequestSchema, { cellPresence: presence({ cellId: "", repAddress: "" }), ttl: 5 })).toBe(
      "Invalid field: cell_id, Invalid field: rep_address",
    ));
  it.each(["ftp://host", "not a url", "10.0.0.1:1800", "http://"])("refuses the rep_address %j", (repAddress) =>
    expect(validateCellPresence(presence({ repAddress }))).toEqual([F("rep_address")]),
  );
  it.each(["http://10.0.0.1:1800", "https://rep.example.com"])("accepts the rep_address %j", (repAddress) =>
    expect(validateCellPresence(presence({ repAddress }))).toEqual([]),
  );
  it.each(traversal)("refuses the cell_id %j", (cellId) => expect(validateCellPresence(presence({ cellId }))).toEqual([F("cell_id")]));
  it("accepts a valid request", () => expect(check(UpsertCellPresenceRequestSchema, { cellPresence: presence(), ttl: 30 })).toBe(""));
});

// ---- §7.2 models ---------------------------------------------------------------------------------

describe("ActualLRPKey", () => {
  it("reports process_guid, index, domain in order", () =>
    expect(validateActualLRPKey(key({ processGuid: "", index: -1, domain: "" }))).toEqual([F("process_guid"), F("index"), F("domain")]));
  it("has no pattern on process_guid (asymmetry)", () => expect(validateActualLRPKey(key({ processGuid: "a b!" }))).toEqual([]));
  it.each(traversal)("refuses the process_guid %j (traversal guard)", (processGuid) =>
    expect(validateActualLRPKey(key({ processGuid }))).toEqual([F("process_guid")]),
  );
});

describe("ActualLRPInstanceKey", () => {
  it("checks cell_id before instance_guid (asymmetry)", () =>
    expect(validateActualLRPInstanceKey(instanceKey({ instanceGuid: "", cellId: "" }))).toEqual([F("cell_id"), F("instance_guid")]));
  it("reports instance_guid alone", () => expect(validateActualLRPInstanceKey(instanceKey({ instanceGuid: "" }))).toEqual([F("instance_guid")]));
  it.each(traversal)("refuses the cell_id %j (traversal guard)", (cellId) =>
    expect(validateActualLRPInstanceKey(instanceKey({ cellId }))).toEqual([F("cell_id")]),
  );
});

describe("ActualLRPNetInfo", () => {
  it("requires address", () => expect(validateActualLRPNetInfo(netInfo({ address: "" }))).toEqual([F("address")]));
  it("does not check ports", () =>
    expect(validateActualLRPNetInfo(netInfo({ ports: [{ containerPort: 0, hostPort: 0 }] }))).toEqual([]));
});

describe("ActualLRP record rules (semantics §2.1)", () => {
  it("reports the key rules then since before the state rules", () =>
    expect(validateActualLRP(actualLRP({ actualLrpKey: key({ processGuid: "", index: -1 }), since: 0n, state: "BOGUS" }))).toEqual([
      F("process_guid"),
      F("index"),
      F("since"),
      F("state"),
    ]));
  it("validates an absent key as the empty key", () =>
    expect(validateActualLRP(create(ActualLRPSchema, { state: "UNCLAIMED", since: 1n }))).toEqual([F("process_guid"), F("domain")]));
  it("refuses an empty state", () => expect(validateActualLRP(actualLRP({ state: "" }))).toEqual([F("state")]));

  describe("UNCLAIMED", () => {
    it("is valid without instance key and net info, even with a placement error", () =>
      expect(validateActualLRP(actualLRP({ placementError: "no cells" }))).toEqual([]));
    it("refuses an instance key and net info", () =>
      expect(validateActualLRP(actualLRP({ actualLrpInstanceKey: { cellId: "c" }, actualLrpNetInfo: { address: "a" } }))).toEqual([
        "instance key cannot be set when state is unclaimed",
        "net info cannot be set when state is unclaimed",
      ]));
    it("counts ports alone as net info", () =>
      expect(validateActualLRP(actualLRP({ actualLrpNetInfo: { ports: [{ containerPort: 8080, hostPort: 1 }] } }))).toEqual([
        "net info cannot be set when state is unclaimed",
      ]));
  });

  describe("CLAIMED", () => {
    const claimed = (o: MessageInitShape<typeof ActualLRPSchema> = {}) => actualLRP({ state: "CLAIMED", actualLrpInstanceKey: instanceKey(), ...o });
    it("is valid with an instance key", () => expect(validateActualLRP(claimed())).toEqual([]));
    it("applies the instance key rules, then net info, then placement error", () =>
      expect(
        validateActualLRP(claimed({ actualLrpInstanceKey: {}, actualLrpNetInfo: { address: "a" }, placementError: "x" })),
      ).toEqual([F("cell_id"), F("instance_guid"), "net info cannot be set when state is claimed", "placement error cannot be set when state is claimed"]));
    it("validates an absent instance key as empty", () =>
      expect(validateActualLRP(actualLRP({ state: "CLAIMED" }))).toEqual([F("cell_id"), F("instance_guid")]));
    it("treats a whitespace-only placement error as blank (Go TrimSpace)", () =>
      expect(validateActualLRP(claimed({ placementError: " \t\n\u00a0\u0085" }))).toEqual([]));
    it("does not treat U+FEFF as space, like Go", () =>
      expect(validateActualLRP(claimed({ placementError: "\ufeff" }))).toEqual(["placement error cannot be set when state is claimed"]));
  });

  describe("RUNNING", () => {
    const running = (o: MessageInitShape<typeof ActualLRPSchema> = {}) =>
      actualLRP({ state: "RUNNING", actualLrpInstanceKey: instanceKey(), actualLrpNetInfo: netInfo(), ...o });
    it("is valid with instance key and net info", () => expect(validateActualLRP(running())).toEqual([]));
    it("applies the instance key rules, the net info rules, then placement error", () =>
      expect(validateActualLRP(running({ actualLrpInstanceKey: { instanceGuid: "i" }, actualLrpNetInfo: {}, placementError: "x" }))).toEqual([
        F("cell_id"),
        F("address"),
        "placement error cannot be set when state is running",
      ]));
  });

  describe("CRASHED", () => {
    it("is valid without instance key and net info", () => expect(validateActualLRP(actualLRP({ state: "CRASHED" }))).toEqual([]));
    it("refuses instance key, net info and placement error in that order", () =>
      expect(
        validateActualLRP(
          actualLRP({ state: "CRASHED", actualLrpInstanceKey: instanceKey(), actualLrpNetInfo: netInfo(), placementError: "x" }),
        ),
      ).toEqual([
        "instance key cannot be set when state is crashed",
        "net info cannot be set when state is crashed",
        "placement error cannot be set when state is crashed",
      ]));
  });
});

describe("DesiredLRP", () => {
  it("accepts a valid LRP", () => expect(validateDesiredLRP(desiredLRP())).toEqual([]));
  it("requires domain", () => expect(validateDesiredLRP(desiredLRP({ domain: "" }))).toEqual([F("domain")]));
  it.each(["", "a b", "a/b", "a.b", ".."])("enforces the guid pattern on process_guid %j", (processGuid) =>
    expect(validateDesiredLRP(desiredLRP({ processGuid }))).toEqual([F("process_guid")]),
  );
  it("reports an empty rootfs twice (asymmetry with TaskDefinition)", () =>
    expect(validateDesiredLRP(desiredLRP({ rootFs: "" }))).toEqual([F("rootfs"), F("rootfs")]));
  it("reports a rootfs without scheme once", () => expect(validateDesiredLRP(desiredLRP({ rootFs: "/var/rootfs" }))).toEqual([F("rootfs")]));
  it("validates setup when present", () =>
    expect(validateDesiredLRP(desiredLRP({ setup: download({ from: "" }) }))).toEqual([F("from")]));
  it("requires action (invalid action type)", () =>
    expect(validateDesiredLRP(desiredLRP({ action: undefined }))).toEqual(["invalid action type"]));
  it("validates action", () => expect(validateDesiredLRP(desiredLRP({ action: run({ path: "" }) }))).toEqual([F("path")]));
  it("validates monitor when present", () =>
    expect(validateDesiredLRP(desiredLRP({ monitor: run({ user: "" }) }))).toEqual([F("user")]));
  it("refuses negative instances and accepts 0", () => {
    expect(validateDesiredLRP(desiredLRP({ instances: -1 }))).toEqual([F("instances")]);
    expect(validateDesiredLRP(desiredLRP({ instances: 0 }))).toEqual([]);
  });
  it("refuses cpu_weight above 100", () => {
    expect(validateDesiredLRP(desiredLRP({ cpuWeight: 101 }))).toEqual([F("cpu_weight")]);
    expect(validateDesiredLRP(desiredLRP({ cpuWeight: 100 }))).toEqual([]);
  });
  it("limits annotation to 10240 bytes", () => {
    expect(validateDesiredLRP(desiredLRP({ annotation: "a".repeat(10240) }))).toEqual([]);
    expect(validateDesiredLRP(desiredLRP({ annotation: "a".repeat(10241) }))).toEqual([F("annotation")]);
  });
  it("counts annotation in UTF-8 bytes, like Go's len", () =>
    expect(validateDesiredLRP(desiredLRP({ annotation: "é".repeat(5121) }))).toEqual([F("annotation")]));
  it("limits the summed route values to 4096 bytes, reporting routes once", () => {
    expect(validateDesiredLRP(desiredLRP({ routes: routeBytes({ a: 4096 }) }))).toEqual([]);
    expect(validateDesiredLRP(desiredLRP({ routes: routeBytes({ a: 4097 }) }))).toEqual([F("routes")]);
    expect(validateDesiredLRP(desiredLRP({ routes: routeBytes({ a: 2048, b: 2048, c: 1 }) }))).toEqual([F("routes")]);
    expect(validateDesiredLRP(desiredLRP({ routes: routeBytes({ a: 5000, b: 5000 }) }))).toEqual([F("routes")]);
  });
  it("does not count route keys", () =>
    expect(validateDesiredLRP(desiredLRP({ routes: routeBytes({ ["k".repeat(5000)]: 10 }) }))).toEqual([]));
  it("refuses routes bytes that are not a ProtoRoutes (deviation)", () =>
    expect(validateDesiredLRP(desiredLRP({ routes: new Uint8Array([0x0a, 0x05, 0x01]) }))).toEqual([F("routes")]));
  it("appends each invalid egress rule's own messages after egress_rules (asymmetry)", () =>
    expect(
      validateDesiredLRP(desiredLRP({ egressRules: [rule(), rule({ protocol: "bogus" }), rule({ ports: [], destinations: [] })] })),
    ).toEqual([
      F("egress_rules"),
      F("protocol"),
      F("egress_rules"),
      "Missing required field: ports or port_range",
      F("destinations [ Must have at least 1 destination ]"),
    ]));
  it("evaluates every rule in order", () =>
    expect(
      validateDesiredLRP(
        desiredLRP({
          domain: "",
          processGuid: "",
          rootFs: "",
          setup: run({ path: "" }),
          action: undefined,
          monitor: upload({ to: "" }),
          instances: -1,
          cpuWeight: 101,
          annotation: "a".repeat(10241),
          routes: routeBytes({ a: 4097 }),
          egressRules: [rule({ protocol: "x" })],
        }),
      ),
    ).toEqual([
      F("domain"),
      F("process_guid"),
      F("rootfs"),
      F("rootfs"),
      F("path"),
      "invalid action type",
      F("to"),
      F("instances"),
      F("cpu_weight"),
      F("annotation"),
      F("routes"),
      F("egress_rules"),
      F("protocol"),
    ]));

  describe("empty Action wrappers (the original panicked: wire Surprise #8)", () => {
    it("as setup gives invalid action type", () =>
      expect(validateDesiredLRP(desiredLRP({ setup: emptyAction() }))).toEqual(["invalid action type"]));
    it("as action gives invalid action type", () =>
      expect(validateDesiredLRP(desiredLRP({ action: emptyAction() }))).toEqual(["invalid action type"]));
    it("as monitor gives invalid action type", () =>
      expect(validateDesiredLRP(desiredLRP({ monitor: emptyAction() }))).toEqual(["invalid action type"]));
  });
});

describe("DesiredLRPUpdate", () => {
  it("accepts an empty update", () => expect(validateDesiredLRPUpdate(create(DesiredLRPUpdateSchema))).toEqual([]));
  it("accepts instances 0 present", () => expect(validateDesiredLRPUpdate(create(DesiredLRPUpdateSchema, { instances: 0 }))).toEqual([]));
  it("reports instances, annotation, routes in order", () =>
    expect(
      validateDesiredLRPUpdate(
        create(DesiredLRPUpdateSchema, { instances: -1, annotation: "a".repeat(10241), routes: routeBytes({ a: 4000, b: 97 }) }),
      ),
    ).toEqual([F("instances"), F("annotation"), F("routes")]));
  it("accepts routes summing to exactly 4096 bytes", () =>
    expect(validateDesiredLRPUpdate(create(DesiredLRPUpdateSchema, { routes: routeBytes({ a: 4000, b: 96 }) }))).toEqual([]));
});

describe("TaskDefinition", () => {
  it("accepts a valid definition", () => expect(validateTaskDefinition(taskDefinition())).toEqual([]));
  it("reports an empty rootfs once (asymmetry with DesiredLRP)", () =>
    expect(validateTaskDefinition(taskDefinition({ rootFs: "" }))).toEqual([F("rootfs")]));
  it("reports a rootfs without scheme", () => expect(validateTaskDefinition(taskDefinition({ rootFs: "rootfs" }))).toEqual([F("rootfs")]));
  it("requires an action", () => expect(validateTaskDefinition(taskDefinition({ action: undefined }))).toEqual(["invalid action type"]));
  it("handles an empty top-level wrapper gracefully, like the original", () =>
    expect(validateTaskDefinition(taskDefinition({ action: emptyAction() }))).toEqual(["invalid action type"]));
  it("validates the action", () => expect(validateTaskDefinition(taskDefinition({ action: download({ to: "" }) }))).toEqual([F("to")]));
  it("refuses cpu_weight above 100", () => expect(validateTaskDefinition(taskDefinition({ cpuWeight: 101 }))).toEqual([F("cpu_weight")]));
  it("limits annotation to 10240 bytes", () => {
    expect(validateTaskDefinition(taskDefinition({ annotation: "a".repeat(10240) }))).toEqual([]);
    expect(validateTaskDefinition(taskDefinition({ annotation: "a".repeat(10241) }))).toEqual([F("annotation")]);
  });
  it("reports only egress_rules for each invalid rule (asymmetry: no details)", () =>
    expect(validateTaskDefinition(taskDefinition({ egressRules: [rule({ protocol: "x" }), rule(), rule({ destinations: [] })] }))).toEqual([
      F("egress_rules"),
      F("egress_rules"),
    ]));
  it("evaluates every rule in order", () =>
    expect(
      validateTaskDefinition(
        taskDefinition({ rootFs: "", action: undefined, cpuWeight: 200, annotation: "a".repeat(20000), egressRules: [rule({ protocol: "" })] }),
      ),
    ).toEqual([F("rootfs"), "invalid action type", F("cpu_weight"), F("annotation"), F("egress_rules")]));
});

describe("Task (store reads)", () => {
  const task = (o: MessageInitShape<typeof TaskSchema> = {}) => create(TaskSchema, { taskGuid: "t", domain: "d", taskDefinition: taskDefinition(), ...o });
  it("accepts a valid task", () => expect(validateTask(task())).toEqual([]));
  it("reports domain, task_guid, task_definition in order", () =>
    expect(validateTask(create(TaskSchema, { taskGuid: "a b" }))).toEqual([F("domain"), F("task_guid"), F("task_definition")]));
  it("applies the definition rules", () =>
    expect(validateTask(task({ taskDefinition: taskDefinition({ rootFs: "" }) }))).toEqual([F("rootfs")]));
});

describe("Actions", () => {
  it("DownloadAction checks from, to, user", () =>
    expect(validateAction(download({ from: "", to: "", user: "" }))).toEqual([F("from"), F("to"), F("user")]));
  it("UploadAction checks to before from, then user (asymmetry)", () =>
    expect(validateAction(upload({ from: "", to: "", user: "" }))).toEqual([F("to"), F("from"), F("user")]));
  it("RunAction checks path then user", () => expect(validateAction(run({ path: "", user: "" }))).toEqual([F("path"), F("user")]));

  it("TimeoutAction reports a missing action then timeout", () =>
    expect(validateAction(create(ActionSchema, { timeoutAction: { timeout: 0n } }))).toEqual([F("action"), F("timeout")]));
  it("TimeoutAction applies the inner rules before timeout", () =>
    expect(validateAction(create(ActionSchema, { timeoutAction: { action: run({ path: "" }), timeout: -5n } }))).toEqual([
      F("path"),
      F("timeout"),
    ]));
  it("TimeoutAction accepts a positive timeout", () =>
    expect(validateAction(create(ActionSchema, { timeoutAction: { action: run(), timeout: 1n } }))).toEqual([]));

  it("TryAction requires an action", () => expect(validateAction(create(ActionSchema, { tryAction: {} }))).toEqual([F("action")]));
  it("TryAction applies the inner rules", () =>
    expect(validateAction(create(ActionSchema, { tryAction: { action: run({ user: "" }) } }))).toEqual([F("user")]));
  it("EmitProgressAction requires an action", () =>
    expect(validateAction(create(ActionSchema, { emitProgressAction: { startMessage: "s" } }))).toEqual([F("action")]));
  it("EmitProgressAction applies the inner rules", () =>
    expect(validateAction(create(ActionSchema, { emitProgressAction: { action: download({ user: "" }) } }))).toEqual([F("user")]));

  describe.each(["parallelAction", "serialAction", "codependentAction"] as const)("%s", (member) => {
    it("requires at least one action", () => expect(validateAction(create(ActionSchema, { [member]: {} }))).toEqual([F("actions")]));
    it("flattens each element's rules in order", () =>
      expect(validateAction(create(ActionSchema, { [member]: { actions: [run({ path: "" }), run(), upload({ from: "" })] } }))).toEqual([
        F("path"),
        F("from"),
      ]));
  });

  it("uses the first present member in field order", () => {
    // download (1) wins over run (3): the invalid run is never looked at.
    expect(validateAction(create(ActionSchema, { downloadAction: { from: "f", to: "t", user: "u" }, runAction: { path: "" } }))).toEqual([]);
    expect(validateAction(create(ActionSchema, { uploadAction: { to: "", from: "f", user: "u" }, runAction: {} }))).toEqual([F("to")]);
  });

  it("validates nesting recursively", () =>
    expect(
      validateAction(
        create(ActionSchema, {
          serialAction: {
            actions: [
              create(ActionSchema, { timeoutAction: { action: create(ActionSchema, { tryAction: { action: run({ path: "" }) } }), timeout: 0n } }),
              create(ActionSchema, { parallelAction: { actions: [download({ from: "" })] } }),
            ],
          },
        }),
      ),
    ).toEqual([F("path"), F("timeout"), F("from")]));

  describe("nested empty Action wrappers (the original panicked: wire Surprise #8)", () => {
    it("alone gives invalid action type", () => expect(validateAction(emptyAction())).toEqual(["invalid action type"]));
    it("inside timeout", () =>
      expect(validateAction(create(ActionSchema, { timeoutAction: { action: emptyAction(), timeout: 0n } }))).toEqual([
        "invalid action type",
        F("timeout"),
      ]));
    it("inside try", () => expect(validateAction(create(ActionSchema, { tryAction: { action: emptyAction() } }))).toEqual(["invalid action type"]));
    it("inside emit_progress", () =>
      expect(validateAction(create(ActionSchema, { emitProgressAction: { action: emptyAction() } }))).toEqual(["invalid action type"]));
    it.each(["parallelAction", "serialAction", "codependentAction"] as const)("inside %s, per element", (member) =>
      expect(validateAction(create(ActionSchema, { [member]: { actions: [emptyAction(), run(), emptyAction()] } }))).toEqual([
        "invalid action type",
        "invalid action type",
      ]),
    );
    it("inside a TaskDefinition's nested action", () =>
      expect(validateTaskDefinition(taskDefinition({ action: create(ActionSchema, { tryAction: { action: emptyAction() } }) }))).toEqual([
        "invalid action type",
      ]));
    it("deep inside a DesiredLRP's setup", () =>
      expect(
        validateDesiredLRP(desiredLRP({ setup: create(ActionSchema, { serialAction: { actions: [create(ActionSchema, { tryAction: { action: emptyAction() } })] } }) })),
      ).toEqual(["invalid action type"]));
  });
});

describe("SecurityGroupRule", () => {
  it("accepts a valid tcp rule with ports", () => expect(validateSecurityGroupRule(rule())).toEqual([]));
  it("accepts a valid tcp rule with a port range", () =>
    expect(validateSecurityGroupRule(rule({ ports: [], portRange: { start: 1, end: 65535 } }))).toEqual([]));

  describe.each(["tcp", "udp"])("%s port rules", (protocol) => {
    it("requires ports or port_range (plain text)", () =>
      expect(validateSecurityGroupRule(rule({ protocol, ports: [] }))).toEqual(["Missing required field: ports or port_range"]));
    it("refuses both ports and port_range (plain text, stops there)", () =>
      expect(validateSecurityGroupRule(rule({ protocol, ports: [0], portRange: { start: 0, end: 0 } }))).toEqual([
        "Invalid: ports and port_range provided",
      ]));
    it("reports start < 1, end < 1 and start > end separately", () => {
      expect(validateSecurityGroupRule(rule({ protocol, ports: [], portRange: { start: 0, end: 0 } }))).toEqual([F("port_range"), F("port_range")]);
      expect(validateSecurityGroupRule(rule({ protocol, ports: [], portRange: { start: 2, end: 0 } }))).toEqual([F("port_range"), F("port_range")]);
      expect(validateSecurityGroupRule(rule({ protocol, ports: [], portRange: { start: 5, end: 4 } }))).toEqual([F("port_range")]);
      expect(validateSecurityGroupRule(rule({ protocol, ports: [], portRange: { start: 0, end: 4 } }))).toEqual([F("port_range")]);
    });
    it("reports ports once per port below 1", () =>
      expect(validateSecurityGroupRule(rule({ protocol, ports: [0, 80, 0] }))).toEqual([F("ports"), F("ports")]));
    it("refuses icmp_info", () =>
      expect(validateSecurityGroupRule(rule({ protocol, icmpInfo: { type: 0, code: 0 } }))).toEqual([F("icmp_info")]));
    it("reports port errors before icmp_info", () =>
      expect(validateSecurityGroupRule(rule({ protocol, ports: [], icmpInfo: {} }))).toEqual([
        "Missing required field: ports or port_range",
        F("icmp_info"),
      ]));
  });

  it("tcp allows log", () => expect(validateSecurityGroupRule(rule({ log: true }))).toEqual([]));
  it("udp refuses log, after icmp_info", () =>
    expect(validateSecurityGroupRule(rule({ protocol: "udp", icmpInfo: {}, log: true }))).toEqual([F("icmp_info"), F("log")]));

  describe("icmp", () => {
    const icmp = () => rule({ protocol: "icmp", ports: [], icmpInfo: { type: 8, code: 0 } });
    it("accepts a valid rule", () => expect(validateSecurityGroupRule(icmp())).toEqual([]));
    it("reports port_range, ports, icmp_info, log in order", () =>
      expect(validateSecurityGroupRule(rule({ protocol: "icmp", portRange: { start: 1, end: 2 }, ports: [1], log: true }))).toEqual([
        F("port_range"),
        F("ports"),
        F("icmp_info"),
        F("log"),
      ]));
  });

  describe("all", () => {
    const all = (o: MessageInitShape<typeof SecurityGroupRuleSchema> = {}) => rule({ protocol: "all", ports: [], ...o });
    it("accepts a rule with log", () => expect(validateSecurityGroupRule(all({ log: true }))).toEqual([]));
    it("reports port_range, ports, icmp_info in order", () =>
      expect(validateSecurityGroupRule(all({ portRange: { start: 1, end: 2 }, ports: [1], icmpInfo: {} }))).toEqual([
        F("port_range"),
        F("ports"),
        F("icmp_info"),
      ]));
  });

  it.each(["", "TCP", "sctp"])("refuses the protocol %j", (protocol) =>
    expect(validateSecurityGroupRule(rule({ protocol }))).toEqual([F("protocol")]),
  );

  it("reports the protocol rules before destinations", () =>
    expect(validateSecurityGroupRule(rule({ protocol: "x", destinations: [] }))).toEqual([
      F("protocol"),
      F("destinations [ Must have at least 1 destination ]"),
    ]));

  describe("destinations", () => {
    const dest = (...destinations: string[]) => validateSecurityGroupRule(rule({ destinations }));

    it.each([
      "1.2.3.4",
      "0.0.0.0",
      "255.255.255.255",
      "010.0.0.1",
      "::",
      "::1",
      "fe80::1",
      "2001:db8::ff00:42:8329",
      "::ffff:1.2.3.4",
      "1:2:3:4:5:6:7::",
      "1:2:3:4:5:6:1.2.3.4",
      "10.0.0.0/8",
      "0.0.0.0/0",
      "1.2.3.4/32",
      "::/0",
      "2001:db8::/128",
      "10.0.0.0/08",
      "10.0.0.1-10.0.0.1",
      "10.0.0.1-10.0.0.255",
      "10.0.0.1-::ffff:10.0.0.2",
      "::1-1.2.3.4",
    ])("accepts %j", (d) => expect(dest(d)).toEqual([]));

    it("requires at least one destination", () =>
      expect(dest()).toEqual(["Invalid field: destinations [ Must have at least 1 destination ]"]));

    it.each(["", "garbage", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.4 ", "1::2::3", ":::", "1:2:3:4:5:6:7:8::", "fe80::1%en0", "::1:", "12345::"])(
      "refuses the IP %j with Invalid IP",
      (d) => expect(dest(d)).toEqual(["Invalid field: destinations [ Invalid IP ]"]),
    );

    it.each(["1.2.3.4/33", "::/129", "1.2.3.4/", "/24", "1.2.3.4/24/1", "1.2.3.4/-1", "1.2.3.4/a", "x/8", "1.2.3.4/24-26"])(
      "refuses the CIDR %j with Go's ParseCIDR text",
      (d) => expect(dest(d)).toEqual([`Invalid field: destinations [ invalid CIDR address: ${d} ]`]),
    );

    it.each(["1.2.3.4-", "-1.2.3.4", "1.2.3.4-x", "1.2.3.4-1.2.3.5/24"])("refuses the range %j with one Invalid IP", (d) =>
      expect(dest(d)).toEqual(["Invalid field: destinations [ Invalid IP ]"]),
    );

    it("refuses a reversed range", () => expect(dest("10.0.0.2-10.0.0.1")).toEqual(["Invalid field: destinations [ Invalid IP ]"]));

    it("repeats Invalid IP for each greater byte until a smaller one (Go's loop)", () => {
      expect(dest("10.9.9.9-10.1.1.1")).toEqual(["Invalid field: destinations [ Invalid IP, Invalid IP, Invalid IP ]"]);
      expect(dest("10.9.0.9-10.1.9.0")).toEqual(["Invalid field: destinations [ Invalid IP ]"]);
    });

    it("compares mixed families over the 16-byte form", () =>
      expect(dest("1.2.3.4-::1")).toEqual([
        "Invalid field: destinations [ Invalid IP, Invalid IP, Invalid IP, Invalid IP, Invalid IP, Invalid IP ]",
      ]));

    it("joins the errors of all destinations in order, skipping valid ones", () =>
      expect(dest("nope", "10.0.0.0/8", "10.0.0.0/40", "2.0.0.0-1.0.0.0")).toEqual([
        "Invalid field: destinations [ Invalid IP, invalid CIDR address: 10.0.0.0/40, Invalid IP ]",
      ]));

    it("takes the first of - and / to decide the form", () => {
      // "/" first: the whole string goes to ParseCIDR, whose mask "8-9" fails.
      expect(dest("10.0.0.0/8-9")).toEqual(["Invalid field: destinations [ invalid CIDR address: 10.0.0.0/8-9 ]"]);
      // "-" first: "10.0.0.9/8" is not an IP.
      expect(dest("10.0.0.1-10.0.0.9/8")).toEqual(["Invalid field: destinations [ Invalid IP ]"]);
    });
  });
});

describe("Go-compatible IP parsing", () => {
  it("returns the 16-byte form for IPv4", () =>
    expect(Array.from(parseIP("1.2.3.4")!)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]));
  it("expands an IPv6 ellipsis", () =>
    expect(Array.from(parseIP("1::2")!)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]));
  it("lets the first . or : decide the family", () => {
    expect(parseIP("1.2.3.4:80")).toBeUndefined();
    expect(parseIP("::ffff:1.2.3.4")).toEqual(parseIP("1.2.3.4"));
  });
  it("accepts hex groups with leading zeros and refuses values over 0xffff", () => {
    expect(parseIP("00001::")).toEqual(parseIP("1::"));
    expect(parseIP("10000::")).toBeUndefined();
  });
  it("refuses an embedded IPv4 in the wrong place", () => {
    expect(parseIP("1:2:3:1.2.3.4")).toBeUndefined();
    expect(parseIP("1:2:3:4:5:6:7:1.2.3.4")).toBeUndefined();
  });
  it("parses CIDR prefix lengths per family", () => {
    expect(parseCIDR("10.0.0.0/32")?.bits).toBe(32);
    expect(parseCIDR("10.0.0.0/33")).toBeUndefined();
    expect(parseCIDR("::ffff:10.0.0.0/128")?.bits).toBe(128);
    expect(parseCIDR("10.0.0.0")).toBeUndefined();
  });
});
