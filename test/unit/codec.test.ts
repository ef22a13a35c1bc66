import { describe, expect, it } from "vitest";
import { create, equals, fromBinary, isFieldSet, toBinary } from "@bufbuild/protobuf";
import { actionValue, DecodeError, decodeMessage, encodeMessage, normalizeMessage } from "../../core/models/codec";
import { decodeRoutes, encodeRoutes, routesByteLength } from "../../core/models/routes";
import {
  compactRawJSON,
  decodeGoJSON,
  decodeLRPStartRequests,
  decodeTaskAuctionRequests,
  encodeGoJSON,
  encodeLRPStartRequests,
  encodeTaskAuctionRequests,
  encodeTaskCallback,
  GoJSONError,
  parseJSONExact,
  quote,
} from "../../core/models/go-json";
import { ActionSchema } from "../../core/gen/models/actions_pb";
import {
  ActualLRPGroupSchema,
  ActualLRPKeySchema,
  ActualLRPSchema,
} from "../../core/gen/models/actual_lrp_pb";
import { ActualLRPLifecycleResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { CellPresenceSchema } from "../../core/gen/models/cell_presence_pb";
import { DesiredLRPSchema, DesiredLRPUpdateSchema } from "../../core/gen/models/desired_lrp_pb";
import { DesiredLRPLifecycleResponseSchema, UpdateDesiredLRPRequestSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import { DomainsResponseSchema } from "../../core/gen/models/domain_pb";
import { EvacuationResponseSchema, EvacuateRunningActualLRPRequestSchema } from "../../core/gen/models/evacuation_pb";
import { SecurityGroupRuleSchema } from "../../core/gen/models/security_group_pb";
import { Task_State, TaskSchema } from "../../core/gen/models/task_pb";
import {
  ConvergeTasksRequestSchema,
  DesireTaskRequestSchema,
  StartTaskResponseSchema,
  TaskByGuidRequestSchema,
  TaskCallbackResponseSchema,
  TaskLifecycleResponseSchema,
  TasksRequestSchema,
} from "../../core/gen/models/task_requests_pb";

const h = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const ascii = (s: string) => Buffer.from(s, "ascii").toString("hex");
const lenHex = (n: number) => n.toString(16).padStart(2, "0");
const len = (s: string) => lenHex(s.length);

describe("repeated scalars", () => {
  it("protobuf-es itself writes proto2 repeated scalars unpacked and reads both forms", () => {
    for (const f of [DesiredLRPSchema.field.ports!, SecurityGroupRuleSchema.field.ports!]) {
      expect(f.fieldKind).toBe("list");
      expect(f.fieldKind === "list" && f.packed).toBe(false);
    }
    const bytes = toBinary(DesiredLRPSchema, create(DesiredLRPSchema, { ports: [8080, 2222] }));
    expect(hex(bytes)).toBe("70903f70ae11");
    expect(fromBinary(DesiredLRPSchema, h("72 04 90 3f ae 11")).ports).toEqual([8080, 2222]);
  });

  it("are written unpacked: one tag per element", () => {
    const lrp = create(DesiredLRPSchema, { ports: [8080, 2222] });
    const bytes = encodeMessage(DesiredLRPSchema, lrp);
    expect(hex(bytes)).toContain("70903f70ae11");
    expect(hex(bytes)).not.toContain("7204");
    const rule = create(SecurityGroupRuleSchema, { protocol: "tcp", ports: [80, 443] });
    expect(hex(encodeMessage(SecurityGroupRuleSchema, rule))).toBe("0a03" + ascii("tcp") + "1850" + "18bb03" + "3000");
  });

  it("are read packed, unpacked and mixed", () => {
    expect(decodeMessage(DesiredLRPSchema, h("72 04 90 3f ae 11")).ports).toEqual([8080, 2222]);
    expect(decodeMessage(DesiredLRPSchema, h("70 90 3f 70 ae 11")).ports).toEqual([8080, 2222]);
    expect(decodeMessage(DesiredLRPSchema, h("70 01 72 02 02 03 70 04")).ports).toEqual([1, 2, 3, 4]);
    expect(decodeMessage(SecurityGroupRuleSchema, h("1a 03 50 bb 03")).ports).toEqual([80, 443]);
    // and re-encoded unpacked
    const lrp = decodeMessage(DesiredLRPSchema, h("72 04 90 3f ae 11"));
    expect(hex(encodeMessage(DesiredLRPSchema, lrp))).toContain("70903f70ae11");
  });

  it("reject a truncated packed run", () => {
    expect(() => decodeMessage(DesiredLRPSchema, h("72 03 90 3f ae"))).toThrow(DecodeError);
    expect(() => decodeMessage(DesiredLRPSchema, h("72 05 90 3f"))).toThrow(DecodeError);
  });
});

describe("decode failures throw DecodeError", () => {
  const cases: [string, () => unknown][] = [
    ["truncated tag varint", () => decodeMessage(TasksRequestSchema, h("8a"))],
    ["truncated length", () => decodeMessage(TaskByGuidRequestSchema, h("0a"))],
    ["length past the end", () => decodeMessage(TaskByGuidRequestSchema, h("0a 05 61 62 63"))],
    ["truncated varint value", () => decodeMessage(ActualLRPKeySchema, h("10 ff ff"))],
    ["truncated int64", () => decodeMessage(TaskSchema, h("20 95 da c3"))],
    ["wrong wire type for a string", () => decodeMessage(TaskByGuidRequestSchema, h("08 01"))],
    ["wrong wire type for an int32", () => decodeMessage(ActualLRPKeySchema, h("12 01 00"))],
    ["wrong wire type for a message", () => decodeMessage(ActualLRPSchema, h("08 01"))],
    ["wrong wire type for a repeated string", () => decodeMessage(DomainsResponseSchema, h("10 01"))],
    ["fixed32 wire type for a repeated uint32", () => decodeMessage(DesiredLRPSchema, h("75 01 02 03 04"))],
    ["illegal wire type 6 (unknown field)", () => decodeMessage(TasksRequestSchema, h("7e"))],
    ["illegal wire type 7 (unknown field)", () => decodeMessage(TasksRequestSchema, h("7f"))],
    ["illegal wire type 6 (known field)", () => decodeMessage(TasksRequestSchema, h("0e"))],
    ["unknown fixed64 truncated", () => decodeMessage(TasksRequestSchema, h("79 01 02"))],
    ["unknown fixed32 truncated", () => decodeMessage(TasksRequestSchema, h("7d 01"))],
    ["error inside a nested message", () => decodeMessage(ActualLRPLifecycleResponseSchema, h("0a 02 08 01"))],
    ["nested field crossing its message's end", () => decodeMessage(ActualLRPSchema, h("0a 03 0a 05 61 62 63 64 65"))],
    ["routes: entry length past the end", () => decodeMessage(DesiredLRPSchema, h("7a 02 0a 05"))],
    ["routes: wrong wire type for the entry", () => decodeMessage(DesiredLRPSchema, h("7a 02 08 01"))],
    ["routes: wrong wire type for the key", () => decodeMessage(DesiredLRPSchema, h("7a 04 0a 02 08 01"))],
    ["routes: truncated value", () => decodeMessage(DesiredLRPSchema, h("7a 06 0a 04 0a 00 12 05"))],
    ["routes: illegal wire type", () => decodeMessage(DesiredLRPSchema, h("7a 01 0f"))],
    ["update routes: invalid", () => decodeMessage(DesiredLRPUpdateSchema, h("12 02 0a 05"))],
    ["update routes inside a request", () => decodeMessage(UpdateDesiredLRPRequestSchema, h("0a 01 70 12 04 12 02 0a 05"))],
  ];
  it.each(cases)("%s", (_name, fn) => {
    expect(fn).toThrow(DecodeError);
  });

  it("names the field and wire type like gogo", () => {
    expect(() => decodeMessage(DesiredLRPSchema, h("75 01 02 03 04"))).toThrow("proto: wrong wireType = 5 for field Ports");
    expect(() => decodeMessage(TasksRequestSchema, h("7f"))).toThrow("proto: illegal wireType 7");
    expect(() => decodeMessage(TaskByGuidRequestSchema, h("0a 05 61"))).toThrow("unexpected EOF");
  });

  it("limits nesting", () => {
    let bytes = new Uint8Array(0);
    for (let i = 0; i < 200; i++) {
      // Action{try_action: TryAction{action: <bytes>}}
      const inner = new Uint8Array([0x0a, ...lenBytes(bytes.length), ...bytes]);
      bytes = new Uint8Array([0x32, ...lenBytes(inner.length), ...inner]);
    }
    expect(() => decodeMessage(ActionSchema, bytes)).toThrow(DecodeError);
  });
});

function lenBytes(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

describe("decoding", () => {
  it("skips unknown fields of every wire type and does not re-emit them", () => {
    const bytes = h(
      "0a 03 61 62 63" + // task_guid "abc"
        "f8 01 05" + // field 31 varint
        "f9 01 01 02 03 04 05 06 07 08" + // field 31 fixed64
        "fa 01 02 68 69" + // field 31 bytes
        "fb 01 08 01 0a 01 78 fc 01" + // field 31 group (start ... end)
        "fd 01 01 02 03 04", // field 31 fixed32
    );
    const req = decodeMessage(TaskByGuidRequestSchema, bytes);
    expect(req.taskGuid).toBe("abc");
    expect(hex(encodeMessage(TaskByGuidRequestSchema, req))).toBe("0a03616263");
  });

  it("last scalar wins, sub-messages merge, repeated fields append", () => {
    const key = decodeMessage(ActualLRPKeySchema, h("0a 01 61 10 01 0a 01 62"));
    expect(key.processGuid).toBe("b");
    const lrp = decodeMessage(ActualLRPSchema, h("0a 03 0a 01 70 0a 02 10 05"));
    expect(lrp.actualLrpKey).toMatchObject({ processGuid: "p", index: 5 });
    const domains = decodeMessage(DomainsResponseSchema, h("12 01 61 12 01 62"));
    expect(domains.domains).toEqual(["a", "b"]);
  });

  it("keeps unknown Task.state values (no enum range check) and writes them back", () => {
    const t = decodeMessage(TaskSchema, h("38 07"));
    expect(t.state).toBe(7);
    expect(hex(encodeMessage(TaskSchema, t))).toContain("3807");
    expect(encodeGoJSON(TaskSchema, t)).toContain('"state":7,');
  });

  it("fills Go value fields (no presence in Go) but keeps presence of pointers", () => {
    const lrp = decodeMessage(ActualLRPSchema, new Uint8Array(0));
    expect(isFieldSet(lrp, ActualLRPSchema.field.crashCount!)).toBe(true);
    expect(lrp.actualLrpKey).toBeDefined();
    expect(lrp.modificationTag).toBeDefined();
    const desired = decodeMessage(DesiredLRPSchema, new Uint8Array(0));
    expect(desired.modificationTag).toBeUndefined();
    expect(isFieldSet(desired, DesiredLRPSchema.field.routes!)).toBe(false);
    const update = decodeMessage(DesiredLRPUpdateSchema, new Uint8Array(0));
    expect(isFieldSet(update, DesiredLRPUpdateSchema.field.instances!)).toBe(false);
    expect(isFieldSet(update, DesiredLRPUpdateSchema.field.annotation!)).toBe(false);
    const scaleToZero = decodeMessage(DesiredLRPUpdateSchema, h("08 00"));
    expect(isFieldSet(scaleToZero, DesiredLRPUpdateSchema.field.instances!)).toBe(true);
    expect(scaleToZero.instances).toBe(0);
  });

  it("an empty ConvergeTasksRequest body means all durations 0", () => {
    const req = decodeMessage(ConvergeTasksRequestSchema, new Uint8Array(0));
    expect(req.kickTaskDuration).toBe(0n);
    expect(req.expirePendingTaskDuration).toBe(0n);
  });

  it("does not validate UTF-8 (invalid bytes become U+FFFD)", () => {
    expect(decodeMessage(TaskByGuidRequestSchema, h("0a 02 ff 61")).taskGuid).toBe("\ufffda");
  });

  it("decodes 64-bit integers exactly, including negative and maximal values", () => {
    const lrp = create(ActualLRPSchema, { since: 1448370000123456789n });
    expect(decodeMessage(ActualLRPSchema, encodeMessage(ActualLRPSchema, lrp)).since).toBe(1448370000123456789n);
    for (const v of [-1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 0n, 1n]) {
      const m = create(ConvergeTasksRequestSchema, { kickTaskDuration: v });
      expect(decodeMessage(ConvergeTasksRequestSchema, encodeMessage(ConvergeTasksRequestSchema, m)).kickTaskDuration).toBe(v);
    }
    for (const v of [0n, 2n ** 64n - 1n, 2n ** 32n, 2n ** 53n + 1n]) {
      const m = create(EvacuateRunningActualLRPRequestSchema, { ttl: v });
      expect(decodeMessage(EvacuateRunningActualLRPRequestSchema, encodeMessage(EvacuateRunningActualLRPRequestSchema, m)).ttl).toBe(v);
    }
    expect(hex(encodeMessage(ConvergeTasksRequestSchema, create(ConvergeTasksRequestSchema, { kickTaskDuration: -1n })))).toBe(
      "08ffffffffffffffffff01" + "1000" + "1800",
    );
  });
});

describe("byte-exact examples (wire §3, §11)", () => {
  it("ErrResourceNotFound response", () => {
    const resp = create(ActualLRPLifecycleResponseSchema, {
      error: { type: "ResourceNotFound", message: "the requested resource could not be found" },
    });
    const bytes = encodeMessage(ActualLRPLifecycleResponseSchema, resp);
    expect(hex(bytes)).toBe(
      "0a3d" + "0a10" + ascii("ResourceNotFound") + "1229" + ascii("the requested resource could not be found"),
    );
    expect(bytes.length).toBe(63);
  });

  it("ErrBadRequest and a validation failure", () => {
    const bad = create(DesiredLRPLifecycleResponseSchema, { error: { type: "InvalidRequest", message: "the request received is invalid" } });
    expect(hex(encodeMessage(DesiredLRPLifecycleResponseSchema, bad))).toBe(
      "0a31" + "0a0e" + ascii("InvalidRequest") + "121f" + ascii("the request received is invalid"),
    );
    const msg = "Invalid field: task_guid";
    const v = create(TaskLifecycleResponseSchema, { error: { type: "InvalidRequest", message: msg } });
    expect(hex(encodeMessage(TaskLifecycleResponseSchema, v))).toBe("0a2a" + "0a0e" + ascii("InvalidRequest") + "12" + len(msg) + ascii(msg));
  });

  it("always-present bools and empty requests", () => {
    expect(hex(encodeMessage(EvacuationResponseSchema, create(EvacuationResponseSchema, { keepContainer: false })))).toBe("1000");
    expect(hex(encodeMessage(EvacuationResponseSchema, create(EvacuationResponseSchema)))).toBe("1000");
    expect(hex(encodeMessage(StartTaskResponseSchema, create(StartTaskResponseSchema, { shouldStart: true })))).toBe("1001");
    expect(hex(encodeMessage(TasksRequestSchema, create(TasksRequestSchema)))).toBe("0a001200");
    expect(hex(encodeMessage(TaskByGuidRequestSchema, create(TaskByGuidRequestSchema, { taskGuid: "abc" })))).toBe("0a03616263");
  });

  it("ActualLRPKey with a negative index", () => {
    const key = create(ActualLRPKeySchema, { processGuid: "p", index: -1, domain: "d" });
    const bytes = encodeMessage(ActualLRPKeySchema, key);
    expect(hex(bytes)).toBe("0a017010ffffffffffffffffff011a0164");
    expect(decodeMessage(ActualLRPKeySchema, bytes).index).toBe(-1);
  });

  it("ActualLRP always writes its embedded keys and modification tag", () => {
    const bytes = hex(encodeMessage(ActualLRPSchema, create(ActualLRPSchema)));
    expect(bytes).toBe("0a060a0010001a00" + "12040a001200" + "1a020a00" + "2000" + "2a00" + "3200" + "3a00" + "4000" + "4a040a001000");
  });

  it("nullable fields are written only when set", () => {
    expect(hex(encodeMessage(DesiredLRPUpdateSchema, create(DesiredLRPUpdateSchema)))).toBe("");
    expect(hex(encodeMessage(DesiredLRPUpdateSchema, create(DesiredLRPUpdateSchema, { instances: 0 })))).toBe("0800");
    expect(hex(encodeMessage(DesiredLRPUpdateSchema, create(DesiredLRPUpdateSchema, { annotation: "" })))).toBe("1a00");
  });

  it("an empty-but-present routes map is 7a 00 and stays present", () => {
    const lrp = decodeMessage(DesiredLRPSchema, h("7a 00"));
    expect(isFieldSet(lrp, DesiredLRPSchema.field.routes!)).toBe(true);
    expect(hex(encodeMessage(DesiredLRPSchema, lrp))).toContain("7a00");
    // Go's JSON for a non-nil *Routes holding a nil map
    expect(encodeGoJSON(DesiredLRPSchema, lrp)).toContain('"routes":null,');
  });
});

describe("actionValue", () => {
  it("is the first present member in field order, not the last on the wire", () => {
    // run_action (3) then download_action (1) on the wire
    const action = decodeMessage(ActionSchema, h("1a 04 0a 02 6c 73" + "0a 04 12 02 2f 61"));
    expect(action.runAction).toBeDefined();
    expect(action.downloadAction).toBeDefined();
    const v = actionValue(action);
    expect(v?.type).toBe("download");
    expect(v?.value).toBe(action.downloadAction);
    // both are kept and re-emitted
    expect(hex(encodeMessage(ActionSchema, action))).toBe(
      // DownloadAction: artifact, from, to, cache_key, log_source, user; RunAction: path, dir, user, log_source
      "0a0e" + "0a00" + "12022f61" + "1a00" + "2200" + "2a00" + "3200" + "1a0a" + "0a026c73" + "1a00" + "3200" + "3a00",
    );
  });

  it("maps every member to its type name", () => {
    const names = ["download", "upload", "run", "timeout", "emit_progress", "try", "parallel", "serial", "codependent"];
    const fields = ActionSchema.fields;
    fields.forEach((f, i) => {
      const a = create(ActionSchema, { [f.localName]: {} });
      expect(actionValue(a)?.type).toBe(names[i]);
    });
    expect(actionValue(create(ActionSchema, { serialAction: {}, codependentAction: {} }))?.type).toBe("serial");
  });

  it("is undefined for an empty or missing Action", () => {
    expect(actionValue(create(ActionSchema))).toBeUndefined();
    expect(actionValue(undefined)).toBeUndefined();
  });
});

describe("routes", () => {
  const routes = {
    "tcp-router": '[{"external_port":1024,"container_port":2222}]',
    "cf-router": '[{"hostnames":["web.example.com"],"port":8080}]',
  };

  it("round-trips, entries sorted by key", () => {
    const bytes = encodeRoutes(routes);
    const cf = routes["cf-router"];
    const tcp = routes["tcp-router"];
    const entry = (k: string, v: string) => {
      const body = "0a" + len(k) + ascii(k) + "12" + len(v) + ascii(v);
      return "0a" + lenHex(body.length / 2) + body;
    };
    expect(hex(bytes)).toBe(entry("cf-router", cf) + entry("tcp-router", tcp));
    const back = decodeRoutes(bytes);
    expect(back).toEqual(routes);
    expect(Object.keys(back)).toEqual(["cf-router", "tcp-router"]);
  });

  it("encodes empty routes as no bytes, and an empty key/value still writes both fields", () => {
    expect(encodeRoutes({}).length).toBe(0);
    expect(decodeRoutes(new Uint8Array(0))).toEqual({});
    expect(hex(encodeRoutes({ "": "" }))).toBe("0a040a001200");
  });

  it("sorts keys bytewise like Go (code point order)", () => {
    const keys = Object.keys(decodeRoutes(encodeRoutes({ "\u{1F600}": "1", "\uFFFD": "2", b: "3", B: "4" })));
    expect(keys).toEqual(["B", "b", "\uFFFD", "\u{1F600}"]);
  });

  it("sums value byte lengths", () => {
    expect(routesByteLength(routes)).toBe(routes["cf-router"].length + routes["tcp-router"].length);
    expect(routesByteLength({ a: "é" })).toBe(2);
    expect(routesByteLength({})).toBe(0);
  });

  it("rejects invalid bytes with DecodeError", () => {
    expect(() => decodeRoutes(h("0a 05 0a"))).toThrow(DecodeError);
    expect(() => decodeRoutes(h("08 01"))).toThrow(DecodeError);
    expect(() => decodeRoutes(h("0f"))).toThrow(DecodeError);
  });

  it("DesiredLRP routes are canonicalized on decode (sorted, unknown fields dropped)", () => {
    const entry = (k: string, v: string) => {
      const body = "0a" + len(k) + ascii(k) + "12" + len(v) + ascii(v);
      return "0a" + lenHex(body.length / 2) + body;
    };
    const unsorted = entry("b", "2") + entry("a", "1") + "1801";
    const wire = h("7a" + lenHex(unsorted.length / 2) + unsorted);
    const lrp = decodeMessage(DesiredLRPSchema, wire);
    expect(hex(lrp.routes)).toBe(hex(encodeRoutes({ a: "1", b: "2" })));
    // already canonical bytes are kept as they are (copied, not shared with the input)
    const input = h("7a" + lenHex(encodeRoutes({ a: "1" }).length) + hex(encodeRoutes({ a: "1" })));
    const decoded = decodeMessage(DesiredLRPSchema, input);
    input.fill(0);
    expect(decodeRoutes(decoded.routes)).toEqual({ a: "1" });
  });
});

describe("Go JSON", () => {
  it("decodes with absent fields and nulls", () => {
    const lrp = decodeGoJSON(ActualLRPSchema, '{"process_guid":"p","ports":null,"modification_tag":null,"crash_reason":null}');
    expect(lrp.actualLrpKey?.processGuid).toBe("p");
    expect(lrp.actualLrpNetInfo?.ports).toEqual([]);
    expect(lrp.modificationTag).toBeDefined();
    expect(equals(ActualLRPSchema, lrp, decodeMessage(ActualLRPSchema, encodeMessage(ActualLRPSchema, lrp)))).toBe(true);
    expect(equals(ActualLRPSchema, decodeGoJSON(ActualLRPSchema, "{}"), decodeMessage(ActualLRPSchema, new Uint8Array(0)))).toBe(true);
    expect(equals(ActualLRPSchema, decodeGoJSON(ActualLRPSchema, "null"), decodeGoJSON(ActualLRPSchema, "{}"))).toBe(true);
    const update = decodeGoJSON(DesiredLRPUpdateSchema, '{"instances":null,"annotation":null,"routes":null}');
    expect(isFieldSet(update, DesiredLRPUpdateSchema.field.instances!)).toBe(false);
    expect(isFieldSet(update, DesiredLRPUpdateSchema.field.routes!)).toBe(false);
  });

  it("writes non-omitempty empty slices as null and omits omitempty zero values", () => {
    expect(encodeGoJSON(ActualLRPSchema, create(ActualLRPSchema))).toBe(
      '{"process_guid":"","index":0,"domain":"","instance_guid":"","cell_id":"","address":"","ports":null,' +
        '"crash_count":0,"state":"","since":0,"modification_tag":{"epoch":"","index":0}}',
    );
    expect(encodeGoJSON(DesiredLRPSchema, create(DesiredLRPSchema))).toBe(
      '{"process_guid":"","domain":"","rootfs":"","instances":0,"env":null,"start_timeout":0,"disk_mb":0,' +
        '"memory_mb":0,"cpu_weight":0,"privileged":false,"log_source":"","log_guid":"","metrics_guid":"","annotation":""}',
    );
    expect(encodeGoJSON(DesireTaskRequestSchema, create(DesireTaskRequestSchema))).toBe('{"task_definition":null,"task_guid":"","domain":""}');
    expect(encodeGoJSON(DesiredLRPUpdateSchema, create(DesiredLRPUpdateSchema, { instances: 0 }))).toBe('{"instances":0}');
    expect(encodeGoJSON(CellPresenceSchema, create(CellPresenceSchema, { cellId: "c" }))).toBe(
      '{"cell_id":"c","rep_address":"","zone":"","capacity":{"memory_mb":0,"disk_mb":0,"containers":0}}',
    );
  });

  it("flattens Task's definition only when present, and allocates it when a promoted key appears", () => {
    const bare = create(TaskSchema, { taskGuid: "t" });
    const text = encodeGoJSON(TaskSchema, bare);
    expect(text).toBe(
      '{"task_guid":"t","domain":"","created_at":0,"updated_at":0,"first_completed_at":0,"state":"Invalid","cell_id":"","result":"","failed":false,"failure_reason":""}',
    );
    expect(decodeGoJSON(TaskSchema, text).taskDefinition).toBeUndefined();
    const withDef = decodeGoJSON(TaskSchema, '{"task_guid":"t","rootfs":"docker:///x"}');
    expect(withDef.taskDefinition?.rootFs).toBe("docker:///x");
    expect(withDef.taskDefinition?.memoryMb).toBe(0);
  });

  it("reads Task.state as a name or a number and writes the name", () => {
    expect(decodeGoJSON(TaskSchema, '{"state":"Running"}').state).toBe(Task_State.Running);
    expect(decodeGoJSON(TaskSchema, '{"state":4}').state).toBe(Task_State.Resolving);
    expect(encodeGoJSON(TaskSchema, create(TaskSchema, { state: Task_State.Pending }))).toContain('"state":"Pending"');
    expect(() => decodeGoJSON(TaskSchema, '{"state":"Bogus"}')).toThrow(GoJSONError);
  });

  it("matches keys case-insensitively and skips unknown keys", () => {
    const k = decodeGoJSON(ActualLRPKeySchema, '{"Process_Guid":"p","INDEX":2,"extra":{"a":[1,2,{"b":null}]},"domain":"d"}');
    expect(k).toMatchObject({ processGuid: "p", index: 2, domain: "d" });
  });

  it("keeps 64-bit integers exact both ways", () => {
    const t = decodeGoJSON(TaskSchema, '{"created_at":1448370000123456789,"updated_at":-9223372036854775808}');
    expect(t.createdAt).toBe(1448370000123456789n);
    expect(t.updatedAt).toBe(-(2n ** 63n));
    expect(encodeGoJSON(TaskSchema, t)).toContain('"created_at":1448370000123456789,"updated_at":-9223372036854775808,');
    const e = decodeGoJSON(EvacuateRunningActualLRPRequestSchema, '{"ttl":18446744073709551615}');
    expect(e.ttl).toBe(2n ** 64n - 1n);
  });

  it("rejects type mismatches, out-of-range numbers and syntax errors", () => {
    const bad: [typeof ActualLRPKeySchema | typeof TaskSchema | typeof EvacuateRunningActualLRPRequestSchema, string][] = [
      [ActualLRPKeySchema, '{"index":"2"}'],
      [ActualLRPKeySchema, '{"index":2.5}'],
      [ActualLRPKeySchema, '{"index":1e2}'],
      [ActualLRPKeySchema, '{"index":2147483648}'],
      [ActualLRPKeySchema, '{"process_guid":1}'],
      [ActualLRPKeySchema, "[]"],
      [ActualLRPKeySchema, '{"index":1'],
      [ActualLRPKeySchema, '{"index":01}'],
      [ActualLRPKeySchema, '{"index":1} x'],
      [ActualLRPKeySchema, '{"process_guid":"a\u0001"}'],
      [ActualLRPKeySchema, '{"process_guid":"\\x"}'],
      [TaskSchema, '{"created_at":9223372036854775808}'],
      [TaskSchema, '{"failed":1}'],
      [EvacuateRunningActualLRPRequestSchema, '{"ttl":-1}'],
      [ActualLRPKeySchema, ""],
    ];
    for (const [schema, text] of bad) {
      expect(() => decodeGoJSON(schema, text), text).toThrow(GoJSONError);
    }
    expect(() => decodeGoJSON(ActualLRPKeySchema, '{"index":"2"}')).toThrow("json: cannot unmarshal string into Go value of type int32");
  });

  it("escapes strings like Go's encoding/json", () => {
    expect(quote('a"b\\c\n\r\t\u0001<>&\u2028\u2029é\u{1F600}')).toBe(
      '"a\\"b\\\\c\\n\\r\\t\\u0001\\u003c\\u003e\\u0026\\u2028\\u2029é\u{1F600}"',
    );
    expect(quote("\ud800x")).toBe('"\\ufffdx"');
    const k = create(ActualLRPKeySchema, { processGuid: "<é\u{1F600}\n" });
    expect(decodeGoJSON(ActualLRPKeySchema, encodeGoJSON(ActualLRPKeySchema, k)).processGuid).toBe("<é\u{1F600}\n");
    expect(decodeGoJSON(ActualLRPKeySchema, '{"process_guid":"\\ud83d\\ude00\\u00e9\\/"}').processGuid).toBe("\u{1F600}é/");
    expect(decodeGoJSON(ActualLRPKeySchema, '{"process_guid":"\\ud83dx"}').processGuid).toBe("\ufffdx");
  });

  it("routes: raw values verbatim from JSON, compacted like json.RawMessage, invalid ones rejected", () => {
    const lrp = decodeGoJSON(DesiredLRPSchema, '{"routes":{"z":{"b": [1, 2]},"a":"<x>"}}');
    expect(decodeRoutes(lrp.routes)).toEqual({ a: '"<x>"', z: '{"b": [1, 2]}' });
    expect(encodeGoJSON(DesiredLRPSchema, lrp)).toContain('"routes":{"a":"\\u003cx\\u003e","z":{"b":[1,2]}},');
    expect(compactRawJSON(' [ {"a" : "b c"} , true, null, -1.5e3 ] ')).toBe('[{"a":"b c"},true,null,-1.5e3]');
    const invalid = create(DesiredLRPSchema, { routes: encodeRoutes({ r: "{not json" }) });
    expect(() => encodeGoJSON(DesiredLRPSchema, invalid)).toThrow(GoJSONError);
    expect(() => encodeGoJSON(DesiredLRPSchema, create(DesiredLRPSchema, { routes: encodeRoutes({ r: "" }) }))).toThrow(GoJSONError);
    expect(() => compactRawJSON("1 2")).toThrow(GoJSONError);
  });

  it("round-trips a group with only an evacuating instance", () => {
    const g = create(ActualLRPGroupSchema, { evacuating: { state: "RUNNING", since: 5n } });
    const text = encodeGoJSON(ActualLRPGroupSchema, g);
    expect(text.startsWith('{"evacuating":{')).toBe(true);
    const back = decodeGoJSON(ActualLRPGroupSchema, text);
    expect(back.instance).toBeUndefined();
    expect(equals(ActualLRPGroupSchema, back, normalizeMessage(ActualLRPGroupSchema, g))).toBe(true);
  });

  it("parseJSONExact keeps integers as bigint and other numbers as numbers", () => {
    expect(parseJSONExact('{"a":[1,-2,1.5,1e2,"s",true,false,null],"b":{}}')).toEqual({
      a: [1n, -2n, 1.5, 100, "s", true, false, null],
      b: {},
    });
  });
});

describe("JSON-only payloads", () => {
  it("LRP start requests", () => {
    const d = create(DesiredLRPSchema, { processGuid: "p", domain: "d" });
    const text = encodeLRPStartRequests([
      { desiredLRP: d, indices: [1] },
      { desiredLRP: undefined, indices: [] },
    ]);
    expect(text.startsWith('[{"desired_lrp":{"process_guid":"p","domain":"d",')).toBe(true);
    expect(text.endsWith(',"indices":[1]},{"desired_lrp":null,"indices":null}]')).toBe(true);
    const back = decodeLRPStartRequests(text);
    expect(back).toHaveLength(2);
    expect(equals(DesiredLRPSchema, back[0]!.desiredLRP!, normalizeMessage(DesiredLRPSchema, d))).toBe(true);
    expect(back[0]!.indices).toEqual([1]);
    expect(back[1]).toEqual({ desiredLRP: undefined, indices: [] });
    expect(encodeLRPStartRequests([])).toBe("[]");
    expect(decodeLRPStartRequests("null")).toEqual([]);
    expect(() => decodeLRPStartRequests('[{"indices":[-1]}]')).toThrow(GoJSONError);
  });

  it("task auction requests", () => {
    const t = create(TaskSchema, { taskGuid: "t", state: Task_State.Pending, createdAt: 1448370000123456789n, taskDefinition: { rootFs: "r" } });
    const text = encodeTaskAuctionRequests([t]);
    expect(text.startsWith('[{"rootfs":"r","disk_mb":0,')).toBe(true);
    const back = decodeTaskAuctionRequests(text);
    expect(equals(TaskSchema, back[0]!, normalizeMessage(TaskSchema, t))).toBe(true);
    expect(back[0]!.createdAt).toBe(1448370000123456789n);
    expect(encodeTaskAuctionRequests([])).toBe("[]");
  });

  it("task callback from a Task", () => {
    const t = create(TaskSchema, {
      taskGuid: "t-1",
      failed: true,
      failureReason: "boom",
      result: "r",
      taskDefinition: { annotation: "a" },
    });
    expect(encodeTaskCallback(t)).toBe('{"task_guid":"t-1","failed":true,"failure_reason":"boom","result":"r","annotation":"a"}');
    const noAnnotation = create(TaskSchema, { taskGuid: "t-2" });
    expect(encodeTaskCallback(noAnnotation)).toBe('{"task_guid":"t-2","failed":false,"failure_reason":"","result":""}');
    expect(encodeGoJSON(TaskCallbackResponseSchema, create(TaskCallbackResponseSchema))).toBe(
      '{"task_guid":"","failed":false,"failure_reason":"","result":""}',
    );
  });
});
