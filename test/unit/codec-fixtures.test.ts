// Every wire fixture from the original Go code (shared/spec/fixtures/wire-fixtures.jsonl) through our
// protobuf codec and our Go-tag JSON codec.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { equals, ScalarType } from "@bufbuild/protobuf";
import type { DescMessage } from "@bufbuild/protobuf";
import { decodeMessage, encodeMessage } from "../../core/models/codec";
import {
  decodeGoJSON,
  decodeLRPStartRequests,
  decodeTaskAuctionRequests,
  decodeTaskCallback,
  encodeGoJSON,
  encodeLRPStartRequests,
  encodeTaskAuctionRequests,
  encodeTaskCallback,
  parseJSONExact,
  rawJSONMembers,
} from "../../core/models/go-json";
import * as actions from "../../core/gen/models/actions_pb";
import * as actualLrp from "../../core/gen/models/actual_lrp_pb";
import * as actualLrpRequests from "../../core/gen/models/actual_lrp_requests_pb";
import * as cellPresence from "../../core/gen/models/cell_presence_pb";
import * as desiredLrp from "../../core/gen/models/desired_lrp_pb";
import * as desiredLrpRequests from "../../core/gen/models/desired_lrp_requests_pb";
import * as domain from "../../core/gen/models/domain_pb";
import * as envVars from "../../core/gen/models/environment_variables_pb";
import * as error from "../../core/gen/models/error_pb";
import * as evacuation from "../../core/gen/models/evacuation_pb";
import * as events from "../../core/gen/models/events_pb";
import * as lrpConvergence from "../../core/gen/models/lrp_convergence_request_pb";
import * as modificationTag from "../../core/gen/models/modification_tag_pb";
import * as securityGroup from "../../core/gen/models/security_group_pb";
import * as task from "../../core/gen/models/task_pb";
import * as taskRequests from "../../core/gen/models/task_requests_pb";
import { ActualLRPSchema } from "../../core/gen/models/actual_lrp_pb";
import type { ActualLRP } from "../../core/gen/models/actual_lrp_pb";
import { DesiredLRPSchema } from "../../core/gen/models/desired_lrp_pb";
import type { DesiredLRP } from "../../core/gen/models/desired_lrp_pb";
import { TaskSchema } from "../../core/gen/models/task_pb";
import type { Task } from "../../core/gen/models/task_pb";
import { TaskCallbackResponseSchema } from "../../core/gen/models/task_requests_pb";
import { ConvergeTasksRequestSchema } from "../../core/gen/models/task_requests_pb";
import type { ConvergeTasksRequest } from "../../core/gen/models/task_requests_pb";

const fixturesPath = new URL("../../../shared/spec/fixtures/wire-fixtures.jsonl", import.meta.url);

interface Fixture {
  name: string;
  message: string;
  protobufHex: string | undefined;
  goJsonText: string; // the raw text of go_json, exactly as in the file
}

const fixtures: Fixture[] = readFileSync(fixturesPath, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => {
    const members = rawJSONMembers(line);
    const str = (key: string) => {
      const raw = members.get(key);
      if (raw === undefined) return undefined;
      const v = parseJSONExact(raw);
      if (typeof v !== "string") throw new Error(`${key} is not a string`);
      return v;
    };
    return {
      name: str("name")!,
      message: str("message")!,
      protobufHex: str("protobuf_hex"),
      goJsonText: members.get("go_json")!,
    };
  });

const schemas = new Map<string, DescMessage>();
for (const mod of [
  actions,
  actualLrp,
  actualLrpRequests,
  cellPresence,
  desiredLrp,
  desiredLrpRequests,
  domain,
  envVars,
  error,
  evacuation,
  events,
  lrpConvergence,
  modificationTag,
  securityGroup,
  task,
  taskRequests,
]) {
  for (const value of Object.values(mod)) {
    if (typeof value === "object" && value !== null && (value as DescMessage).kind === "message") {
      const desc = value as DescMessage;
      schemas.set(desc.name, desc);
    }
  }
}

const JSON_ONLY = new Set(["auctioneer_lrp_start_requests", "auctioneer_task_requests"]);
const protobufFixtures = fixtures.filter((f) => !JSON_ONLY.has(f.name));

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function schemaOf(f: Fixture): DescMessage {
  const schema = schemas.get(f.message);
  if (!schema) throw new Error(`no schema for fixture message ${f.message}`);
  return schema;
}

function decodeFixture(name: string): { schema: DescMessage; msg: any } {
  const f = fixtures.find((x) => x.name === name)!;
  const schema = schemaOf(f);
  return { schema, msg: decodeMessage(schema, fromHex(f.protobufHex!)) };
}

/**
 * Walks protobuf bytes by schema (independently of the codec) and returns, for every repeated scalar
 * field met, the wire types its elements used.
 */
function repeatedScalarWireTypes(schema: DescMessage, bytes: Uint8Array): { field: string; wireType: number }[] {
  const found: { field: string; wireType: number }[] = [];
  const walk = (desc: DescMessage, start: number, end: number) => {
    let p = start;
    const varint = () => {
      let v = 0n;
      let shift = 0n;
      for (;;) {
        const b = bytes[p++]!;
        v |= BigInt(b & 0x7f) << shift;
        if (b < 0x80) return v;
        shift += 7n;
      }
    };
    while (p < end) {
      const tag = Number(varint());
      const no = tag >>> 3;
      const wt = tag & 7;
      const field = desc.fields.find((x) => x.number === no);
      if (field?.fieldKind === "list" && field.listKind === "scalar" && field.scalar !== ScalarType.STRING && field.scalar !== ScalarType.BYTES) {
        found.push({ field: `${desc.typeName}.${field.name}`, wireType: wt });
      }
      if (wt === 0) varint();
      else if (wt === 1) p += 8;
      else if (wt === 5) p += 4;
      else if (wt === 2) {
        const len = Number(varint());
        const sub =
          field?.fieldKind === "message" ? field.message : field?.fieldKind === "list" && field.listKind === "message" ? field.message : undefined;
        if (sub) walk(sub, p, p + len);
        p += len;
      } else throw new Error(`unexpected wire type ${wt}`);
    }
  };
  walk(schema, 0, bytes.length);
  return found;
}

describe("wire fixtures", () => {
  it("has all 40 fixtures, each mapped to a schema or a JSON-only payload", () => {
    expect(fixtures).toHaveLength(40);
    for (const f of protobufFixtures) {
      expect(f.protobufHex, f.name).toBeDefined();
      expect(schemas.has(f.message), `${f.name}: ${f.message}`).toBe(true);
    }
    expect(fixtures.filter((f) => JSON_ONLY.has(f.name))).toHaveLength(2);
  });

  describe.each(protobufFixtures.map((f) => [f.name, f] as const))("%s", (_name, f) => {
    const schema = schemaOf(f);
    const goBytes = fromHex(f.protobufHex!);
    const msg = decodeMessage(schema, goBytes);

    it("decodes into a value whose Go JSON equals go_json (parsed, bigint-exact)", () => {
      const ours = encodeGoJSON(schema, msg);
      expect(parseJSONExact(ours)).toEqual(parseJSONExact(f.goJsonText));
      // and in fact the very same text (Go field order, compact)
      expect(ours).toBe(f.goJsonText);
    });

    it("re-encodes into bytes that decode back to an equal message", () => {
      const ours = encodeMessage(schema, msg);
      expect(equals(schema, decodeMessage(schema, ours), msg)).toBe(true);
      // our encoder also reproduces the Go bytes exactly (every scalar always written, sorted routes)
      expect(hex(ours)).toBe(f.protobufHex);
    });

    it("writes repeated scalars unpacked", () => {
      const ours = encodeMessage(schema, msg);
      for (const { field, wireType } of repeatedScalarWireTypes(schema, ours)) {
        expect(wireType, field).toBe(0);
      }
    });

    it("decodes go_json back into an equal message", () => {
      const fromJson = decodeGoJSON(schema, f.goJsonText);
      expect(equals(schema, fromJson, msg)).toBe(true);
      expect(hex(encodeMessage(schema, fromJson))).toBe(f.protobufHex);
    });

    if (schema.fields.some((x) => x.name === "error")) {
      it("carries the same error type and message", () => {
        const goJson = parseJSONExact(f.goJsonText) as Record<string, any>;
        const decoded = msg as { error?: { type: string; message: string } };
        if (goJson.error === undefined) {
          expect(decoded.error).toBeUndefined();
          return;
        }
        expect(decoded.error?.type).toBe(goJson.error.type);
        expect(decoded.error?.message).toBe(goJson.error.message);
        const again = decodeMessage(schema, encodeMessage(schema, msg)) as typeof decoded;
        expect(again.error?.type).toBe(goJson.error.type);
        expect(again.error?.message).toBe(goJson.error.message);
      });
    }
  });

  it("actually exercises repeated scalars (DesiredLRP.ports, SecurityGroupRule.ports)", () => {
    const { schema, msg } = decodeFixture("desired_lrp_full");
    const seen = repeatedScalarWireTypes(schema, encodeMessage(schema, msg));
    expect(seen.filter((s) => s.field === "models.DesiredLRP.ports")).toHaveLength(2);
    expect(seen.filter((s) => s.field === "models.SecurityGroupRule.ports")).toHaveLength(2);
    expect(seen.every((s) => s.wireType === 0)).toBe(true);
    expect((msg as DesiredLRP).ports).toEqual([8080, 2222]);
  });

  it("error responses carry the original strings", () => {
    const expected: Record<string, [string, string]> = {
      error_resource_not_found: ["ResourceNotFound", "the requested resource could not be found"],
      error_bad_request: ["InvalidRequest", "the request received is invalid"],
      error_running_on_different_cell: ["RunningOnDifferentCell", "Running on cell cell-b not cell-a"],
      error_task_transition: ["InvalidStateTransition", "Cannot transition from Pending to Completed"],
    };
    for (const [name, [type, message]] of Object.entries(expected)) {
      const { msg } = decodeFixture(name);
      expect(msg.error, name).toMatchObject({ type, message });
    }
  });

  it("keeps Unix-nanosecond fields exact", () => {
    const lrp = decodeFixture("actual_lrp_running").msg as ActualLRP;
    expect(lrp.since).toBe(1448370000123456789n);
    expect(decodeGoJSON(ActualLRPSchema, encodeGoJSON(ActualLRPSchema, lrp)).since).toBe(1448370000123456789n);

    const t = decodeFixture("task_completed_failed").msg as Task;
    expect(t.createdAt).toBe(1448370000123456789n);
    expect(t.updatedAt).toBe(1448370000123456794n);
    expect(t.firstCompletedAt).toBe(1448370000123456798n);
    const viaJson = decodeGoJSON(TaskSchema, encodeGoJSON(TaskSchema, t));
    expect(viaJson.updatedAt).toBe(1448370000123456794n);
    expect(viaJson.firstCompletedAt).toBe(1448370000123456798n);
    expect(encodeGoJSON(TaskSchema, t)).toContain('"first_completed_at":1448370000123456798,');

    const c = decodeFixture("converge_tasks_request").msg as ConvergeTasksRequest;
    expect(c.expirePendingTaskDuration).toBe(1800000000000n);
    expect(decodeGoJSON(ConvergeTasksRequestSchema, encodeGoJSON(ConvergeTasksRequestSchema, c)).kickTaskDuration).toBe(30000000000n);

    // the parsed-JSON comparison itself is exact: a Number would have lost the last digits
    expect(parseJSONExact('{"since":1448370000123456789}')).toEqual({ since: 1448370000123456789n });
    expect(parseJSONExact('{"since":1448370000123456789}')).not.toEqual({ since: 1448370000123456800n });
  });
});

describe("JSON-only fixtures", () => {
  const byName = (name: string) => fixtures.find((f) => f.name === name)!;

  it("auctioneer_lrp_start_requests", () => {
    const f = byName("auctioneer_lrp_start_requests");
    const requests = decodeLRPStartRequests(f.goJsonText);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.indices).toEqual([0, 2]);
    const desired = decodeFixture("desired_lrp_full").msg as DesiredLRP;
    expect(equals(DesiredLRPSchema, requests[0]!.desiredLRP!, desired)).toBe(true);
    const ours = encodeLRPStartRequests([{ desiredLRP: desired, indices: [0, 2] }]);
    expect(parseJSONExact(ours)).toEqual(parseJSONExact(f.goJsonText));
    expect(ours).toBe(f.goJsonText);
  });

  it("auctioneer_task_requests", () => {
    const f = byName("auctioneer_task_requests");
    const tasks = decodeTaskAuctionRequests(f.goJsonText);
    expect(tasks).toHaveLength(1);
    const t = decodeFixture("task_completed_failed").msg as Task;
    expect(equals(TaskSchema, tasks[0]!, t)).toBe(true);
    expect(tasks[0]!.createdAt).toBe(1448370000123456789n);
    const ours = encodeTaskAuctionRequests([t]);
    expect(parseJSONExact(ours)).toEqual(parseJSONExact(f.goJsonText));
    expect(ours).toBe(f.goJsonText);
  });

  it("task_callback goes through the callback payload codec", () => {
    const f = byName("task_callback");
    const fromBytes = decodeMessage(TaskCallbackResponseSchema, fromHex(f.protobufHex!));
    const fromJson = decodeTaskCallback(f.goJsonText);
    expect(equals(TaskCallbackResponseSchema, fromJson, fromBytes)).toBe(true);
    const ours = encodeTaskCallback(fromJson);
    expect(parseJSONExact(ours)).toEqual(parseJSONExact(f.goJsonText));
    expect(ours).toBe(f.goJsonText);
    expect(
      encodeTaskCallback({ taskGuid: "t-1", failed: true, failureReason: "exit status 1", result: "", annotation: "staging" }),
    ).toBe(f.goJsonText);
  });
});
