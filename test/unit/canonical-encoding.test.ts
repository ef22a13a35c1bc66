// List responses carry stored records as they are when their bytes are canonical (core/records.ts,
// listedRecord). The promise that makes this safe: whenever isCanonicalEncoding says yes, decoding
// succeeds and encoding the decoded message gives back exactly the same bytes — so a spliced response
// is byte for byte the decode + encode one. Checked on the Go wire fixtures, on records as the BBS
// writes them, and on many random corruptions of them.
import { readFileSync } from "node:fs";
import { create, type DescMessage } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as actions from "../../core/gen/models/actions_pb";
import * as actualLrp from "../../core/gen/models/actual_lrp_pb";
import { ActualLRPGroupSchema, ActualLRPSchema } from "../../core/gen/models/actual_lrp_pb";
import * as actualLrpRequests from "../../core/gen/models/actual_lrp_requests_pb";
import { ActualLRPGroupsResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import * as cellPresence from "../../core/gen/models/cell_presence_pb";
import * as desiredLrp from "../../core/gen/models/desired_lrp_pb";
import { DesiredLRPSchema } from "../../core/gen/models/desired_lrp_pb";
import * as desiredLrpRequests from "../../core/gen/models/desired_lrp_requests_pb";
import { DesiredLRPsResponseSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import * as domain from "../../core/gen/models/domain_pb";
import * as evacuation from "../../core/gen/models/evacuation_pb";
import * as events from "../../core/gen/models/events_pb";
import * as task from "../../core/gen/models/task_pb";
import { TaskSchema, Task_State } from "../../core/gen/models/task_pb";
import * as taskRequests from "../../core/gen/models/task_requests_pb";
import { TasksResponseSchema } from "../../core/gen/models/task_requests_pb";
import { ActualLRPState } from "../../core/models/actual-lrp";
import { canonicalStringField, decodeMessage, encodeListResponse, encodeMessage, isCanonicalEncoding } from "../../core/models/codec";
import { RecordDecodeError, encodeRecord, listedRecord } from "../../core/records";
import { actualLRP, desiredLRP, task as benchTask } from "../bench/fixtures";

const schemas = new Map<string, DescMessage>();
for (const mod of [actions, actualLrp, actualLrpRequests, cellPresence, desiredLrp, desiredLrpRequests, domain, evacuation, events, task, taskRequests]) {
  for (const value of Object.values(mod)) {
    if (typeof value === "object" && value !== null && (value as DescMessage).kind === "message") schemas.set((value as DescMessage).name, value as DescMessage);
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The promise: canonical ⇒ decodes, and re-encodes to the very same bytes. */
function holdsPromise(schema: DescMessage, bytes: Uint8Array): boolean {
  if (!isCanonicalEncoding(schema, bytes)) return true;
  let again: Uint8Array;
  try {
    again = encodeMessage(schema, decodeMessage(schema, bytes));
  } catch {
    return false;
  }
  return hex(again) === hex(bytes);
}

const NOW = 1_795_540_421_409_521_000n;

function records(): [DescMessage, Uint8Array][] {
  const out: [DescMessage, Uint8Array][] = [];
  for (const [i, state] of [ActualLRPState.Unclaimed, ActualLRPState.Claimed, ActualLRPState.Running, ActualLRPState.Crashed].entries()) {
    out.push([ActualLRPSchema, encodeMessage(ActualLRPSchema, actualLRP(`pg-${i}`, i, { state, sinceNs: NOW, crashCount: i }))]);
  }
  out.push([DesiredLRPSchema, encodeMessage(DesiredLRPSchema, desiredLRP("pg-ünïcode-✓", 3))]);
  const bare = create(DesiredLRPSchema, { processGuid: "bare", domain: "d", rootFs: "r", instances: -1 });
  out.push([DesiredLRPSchema, encodeMessage(DesiredLRPSchema, bare)]);
  out.push([TaskSchema, encodeMessage(TaskSchema, benchTask("task-1", 0, NOW))]);
  out.push([TaskSchema, encodeMessage(TaskSchema, benchTask("task-2", 1, NOW))]);
  return out;
}

describe("isCanonicalEncoding", () => {
  it("accepts what the codec writes: every record the BBS stores", () => {
    for (const [schema, bytes] of records()) expect(isCanonicalEncoding(schema, bytes), schema.typeName).toBe(true);
  });

  it("keeps its promise on every Go wire fixture (and accepts most of them)", () => {
    const path = new URL("../../../shared/spec/fixtures/wire-fixtures.jsonl", import.meta.url);
    let canonical = 0;
    let total = 0;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const f = JSON.parse(line) as { name: string; message: string; protobuf_hex?: string };
      const schema = schemas.get(f.message);
      if (!schema || f.protobuf_hex === undefined) continue;
      const bytes = new Uint8Array(Buffer.from(f.protobuf_hex, "hex"));
      total++;
      if (isCanonicalEncoding(schema, bytes)) canonical++;
      expect(holdsPromise(schema, bytes), f.name).toBe(true);
    }
    expect(total).toBeGreaterThan(30);
    expect(canonical).toBeGreaterThan(total / 2);
  });

  it("keeps its promise on thousands of corrupted records", () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let stillCanonical = 0;
    for (const [schema, original] of records()) {
      for (let round = 0; round < 600; round++) {
        const bytes = Array.from(original);
        const edits = 1 + rand(3);
        for (let e = 0; e < edits; e++) {
          const at = rand(bytes.length + 1);
          switch (rand(5)) {
            case 0:
              bytes[at] = rand(256);
              break;
            case 1:
              bytes.splice(at, 0, rand(256));
              break;
            case 2:
              bytes.splice(at, 1);
              break;
            case 3:
              bytes.length = Math.min(bytes.length, at);
              break;
            default:
              bytes[at] = (bytes[at] ?? 0) ^ (1 << rand(8));
          }
        }
        const mutated = Uint8Array.from(bytes);
        if (isCanonicalEncoding(schema, mutated)) stillCanonical++;
        expect(holdsPromise(schema, mutated), `${schema.typeName} ${hex(mutated)}`).toBe(true);
      }
    }
    expect(stillCanonical).toBeGreaterThan(0); // e.g. a changed character inside a string
  });

  it("refuses what the codec would not write back the same", () => {
    const lrp = encodeMessage(ActualLRPSchema, actualLRP("pg", 0, { state: ActualLRPState.Running, sinceNs: NOW }));
    const desired = encodeMessage(DesiredLRPSchema, desiredLRP("pg", 1));
    const concat = (...parts: ArrayLike<number>[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
    // an unknown field (99, varint) appended
    expect(isCanonicalEncoding(ActualLRPSchema, concat(lrp, [0x98, 0x06, 0x01]))).toBe(false);
    // a singular field twice (state, 6)
    expect(isCanonicalEncoding(ActualLRPSchema, concat(lrp, [0x32, 0x00]))).toBe(false);
    // a Go value field missing: actual_lrp_key (1) cut off the front
    expect(isCanonicalEncoding(ActualLRPSchema, lrp.subarray(2 + lrp[1]!))).toBe(false);
    // ports packed (field 14, wire type 2) instead of one tag per element
    const ports = create(DesiredLRPSchema, { processGuid: "p", domain: "d", rootFs: "r", instances: 1 });
    const base = encodeMessage(DesiredLRPSchema, ports);
    expect(isCanonicalEncoding(DesiredLRPSchema, base)).toBe(true);
    expect(isCanonicalEncoding(DesiredLRPSchema, concat(base, [0x72, 0x02, 0x90, 0x3f]))).toBe(false);
    // a non-minimal varint (instances = 1 as 0x81 0x00)
    const at = base.indexOf(0x20);
    expect(isCanonicalEncoding(DesiredLRPSchema, concat(base.subarray(0, at), [0x20, 0x81, 0x00], base.subarray(at + 2)))).toBe(false);
    // invalid UTF-8 in a string (TextDecoder would replace it)
    const bad = Uint8Array.from(desired);
    bad[2] = 0xff;
    expect(isCanonicalEncoding(DesiredLRPSchema, bad)).toBe(false);
    expect(holdsPromise(DesiredLRPSchema, bad)).toBe(true);
  });

  it("judges routes as canonicalRoutesBytes does: sorted, unique, key then value, minimal", () => {
    const withRoutes = (routes: Uint8Array) =>
      encodeMessage(DesiredLRPSchema, create(DesiredLRPSchema, { processGuid: "p", domain: "d", rootFs: "r", instances: 1, routes }));
    const entry = (key: string, value: string) => {
      const k = Buffer.from(key);
      const v = Buffer.from(value);
      const body = [0x0a, k.length, ...k, 0x12, v.length, ...v];
      return [0x0a, body.length, ...body];
    };
    const sorted = Uint8Array.from([...entry("a", "1"), ...entry("b", "22")]);
    expect(isCanonicalEncoding(DesiredLRPSchema, withRoutes(sorted))).toBe(true);
    for (const routes of [
      Uint8Array.from([...entry("b", "22"), ...entry("a", "1")]), // unsorted
      Uint8Array.from([...entry("a", "1"), ...entry("a", "2")]), // duplicate key
      Uint8Array.from([0x0a, 0x03, 0x12, 0x01, 0x31]), // value without key
      Uint8Array.from([0x0a, 0x06, 0x12, 0x01, 0x31, 0x0a, 0x01, 0x61]), // value before key
      Uint8Array.from([0x0a, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x81, 0x00]), // non-minimal length
      Uint8Array.from([0x0a, 0x02, 0x0a, 0x05]), // truncated
    ]) {
      const bytes = withRoutes(routes);
      expect(isCanonicalEncoding(DesiredLRPSchema, bytes), hex(routes)).toBe(false);
      expect(holdsPromise(DesiredLRPSchema, bytes)).toBe(true);
    }
  });

  it("reads a sort key straight from canonical bytes", () => {
    const t = benchTask("task-ü-9", 0, NOW);
    expect(canonicalStringField(encodeMessage(TaskSchema, t), TaskSchema.field.taskGuid.number)).toBe("task-ü-9");
    expect(canonicalStringField(encodeMessage(DesiredLRPSchema, desiredLRP("pg-7")), 1)).toBe("pg-7");
  });
});

describe("encodeListResponse", () => {
  it("writes what encodeMessage writes for the decoded list", () => {
    const running = actualLRP("pg-1", 0, { state: ActualLRPState.Running, sinceNs: NOW });
    const evacuating = actualLRP("pg-1", 1, { state: ActualLRPState.Running, sinceNs: NOW, cell: "cell-9" });
    const groups = [
      create(ActualLRPGroupSchema, { instance: running }),
      create(ActualLRPGroupSchema, { instance: running, evacuating }),
      create(ActualLRPGroupSchema, { evacuating }),
    ];
    const bytes = (m: typeof running) => encodeMessage(ActualLRPSchema, m);
    const spliced = encodeListResponse(ActualLRPGroupsResponseSchema, "actualLrpGroups", [
      { fields: [[1, bytes(running)]] },
      { fields: [[1, bytes(running)], [2, bytes(evacuating)]] },
      { fields: [[2, bytes(evacuating)]] },
    ]);
    expect(hex(spliced)).toBe(hex(encodeMessage(ActualLRPGroupsResponseSchema, create(ActualLRPGroupsResponseSchema, { actualLrpGroups: groups }))));

    const desired = [desiredLRP("a", 1), desiredLRP("b".repeat(300), 2)];
    expect(hex(encodeListResponse(DesiredLRPsResponseSchema, "desiredLrps", desired.map((d) => encodeMessage(DesiredLRPSchema, d))))).toBe(
      hex(encodeMessage(DesiredLRPsResponseSchema, create(DesiredLRPsResponseSchema, { desiredLrps: desired }))),
    );
    const tasks = [benchTask("t1", 0, NOW), benchTask("t2", 1, NOW)];
    expect(hex(encodeListResponse(TasksResponseSchema, "tasks", tasks.map((t) => encodeMessage(TaskSchema, t))))).toBe(
      hex(encodeMessage(TasksResponseSchema, create(TasksResponseSchema, { tasks }))),
    );
    expect(encodeListResponse(TasksResponseSchema, "tasks", []).length).toBe(0);
  });
});

describe("listedRecord", () => {
  it("carries a canonical record as stored, and decodes it only when asked", () => {
    const lrp = actualLRP("pg", 0, { state: ActualLRPState.Claimed, sinceNs: NOW });
    const stored = encodeRecord(ActualLRPSchema, lrp);
    const listed = listedRecord(ActualLRPSchema, stored);
    expect(listed.canonical).toBe(true);
    expect(listed.bytes.buffer).toBe(stored.buffer);
    expect(hex(listed.bytes)).toBe(hex(stored.subarray(1)));
    expect(listed.message()).toEqual(decodeMessage(ActualLRPSchema, stored.subarray(1)));
  });

  it("re-encodes a decodable record that is not canonical, as listing always did", () => {
    const stored = Uint8Array.from([...encodeRecord(ActualLRPSchema, actualLRP("pg", 0, { state: ActualLRPState.Unclaimed, sinceNs: NOW })), 0x98, 0x06, 0x01]);
    const listed = listedRecord(ActualLRPSchema, stored);
    expect(listed.canonical).toBe(false);
    expect(hex(listed.bytes)).toBe(hex(encodeMessage(ActualLRPSchema, decodeMessage(ActualLRPSchema, stored.subarray(1)))));
  });

  it("throws decodeRecord's error for a record that does not decode", () => {
    expect(() => listedRecord(ActualLRPSchema, Uint8Array.of(0x02, 0xff, 0xff))).toThrow(RecordDecodeError);
    expect(() => listedRecord(ActualLRPSchema, Uint8Array.of(0x07, 0x0a, 0x00))).toThrow(RecordDecodeError);
    expect(() => listedRecord(TaskSchema, new Uint8Array(0))).toThrow(RecordDecodeError);
  });

  it("lets enum values the proto does not know through exactly as decode + encode would", () => {
    const t = benchTask("t", 0, NOW);
    t.state = 17 as Task_State;
    const stored = encodeRecord(TaskSchema, t);
    expect(holdsPromise(TaskSchema, stored.subarray(1))).toBe(true);
  });
});
