// Protobuf codec for the BBS wire (shared/spec/bbs-wire.md §3), over the protobuf-es message types.
//
// Why not protobuf-es's own toBinary/fromBinary: the original is gogoproto-generated Go code whose
// behaviour differs from stock protobuf in ways a client can observe —
//  * every non-nullable scalar is written even when zero (`TasksRequest{}` = `0a 00 12 00`), and the
//    non-nullable embedded messages of ActualLRP are always written (§3.1, §3.2);
//  * repeated scalars are written unpacked (§3.4; protobuf-es does that too for proto2) and read in
//    both forms;
//  * a known field with the wrong wire type, wire type 6/7, a truncated varint or length, and invalid
//    `routes` bytes (a nested ProtoRoutes) fail the whole decode (§3.6, §3.8) — protobuf-es does not
//    check wire types of known fields and would drop unknown Task.state values into unknown fields;
//  * unknown fields are skipped and not kept (§3.6).
// Decoded messages are protobuf-es messages (made with `create`) in a canonical form: every field the
// Go structs hold by value (non-nullable scalars, ActualLRP's embedded keys and modification tag) is
// set, whether or not it was on the wire, because Go has no presence for them. Presence is kept for
// what Go holds by pointer: message fields, `routes`, ResourceLimits.nofile, DesiredLRPUpdate.instances
// and DesiredLRPUpdate.annotation. `normalizeMessage` brings a hand-built message into the same form.
//
// Plans (field tables, tag bytes, traits) are computed once per message type and cached.

import { create, ScalarType } from "@bufbuild/protobuf";
import type { DescField, DescMessage, MessageShape } from "@bufbuild/protobuf";
import type {
  Action,
  CodependentAction,
  DownloadAction,
  EmitProgressAction,
  ParallelAction,
  RunAction,
  SerialAction,
  TimeoutAction,
  TryAction,
  UploadAction,
} from "../gen/models/actions_pb";

/** The bytes are not a valid encoding of the message (truncated, wrong wire type, bad nested routes…). */
export class DecodeError extends Error {
  override name = "DecodeError";
}

// ---------------------------------------------------------------------------------------------------
// Go struct traits that the .proto files cannot express (gogoproto options of the original).

/** Scalars that Go holds by pointer (`nullable=true`): written only when set, presence is kept. */
const NULLABLE_SCALARS = new Set([
  "models.ResourceLimits.nofile",
  "models.DesiredLRPUpdate.instances",
  "models.DesiredLRPUpdate.annotation",
]);

/** Message fields Go holds by value (`nullable=false`): always written, always present after decode. */
const VALUE_MESSAGES = new Set([
  "models.ActualLRP.actual_lrp_key",
  "models.ActualLRP.actual_lrp_instance_key",
  "models.ActualLRP.actual_lrp_net_info",
  "models.ActualLRP.modification_tag",
  // Ours (cell presence replaces consul); Go's CellPresence holds its capacity by value.
  "models.CellPresence.capacity",
]);

/** `bytes` fields holding a serialized ProtoRoutes (gogo customtype Routes), validated on decode. */
const ROUTES_FIELDS = new Set(["models.DesiredLRP.routes", "models.DesiredLRPUpdate.routes"]);

/** @internal Shared with the Go-JSON codec. */
export const goTraits = {
  isNullableScalar: (f: DescField) => NULLABLE_SCALARS.has(qualified(f)),
  isValueMessage: (f: DescField) => VALUE_MESSAGES.has(qualified(f)),
  isRoutes: (f: DescField) => ROUTES_FIELDS.has(qualified(f)),
};

function qualified(f: DescField): string {
  return `${f.parent.typeName}.${f.name}`;
}

// ---------------------------------------------------------------------------------------------------
// Plans

const KIND_ENUM = 100;
const KIND_MESSAGE = 101;

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;

const FIELD_SINGULAR = 0;
const FIELD_LIST = 1;
const FIELD_MAP = 2;

type AnyMessage = Record<string, any>;

interface FieldPlan {
  readonly no: number;
  readonly name: string; // localName (property)
  readonly goName: string; // for error texts, as gogo prints it
  readonly shape: number; // FIELD_SINGULAR | FIELD_LIST | FIELD_MAP
  readonly kind: number; // ScalarType | KIND_ENUM | KIND_MESSAGE (element / map value kind)
  readonly mapKey: ScalarType; // map fields only
  readonly wireType: number; // of one element (map: WT_LEN)
  readonly packable: boolean; // a list of numeric/bool/enum elements: packed form accepted on read
  readonly tag: Uint8Array; // tag bytes for writing (element tag for lists)
  readonly always: boolean; // singular: write even when unset (Go value field)
  readonly materialize: boolean; // singular: set on decode even when absent (Go value field)
  readonly routes: boolean;
  readonly zero: unknown; // zero value of a singular scalar/enum field
  msg: MessagePlan | undefined; // message fields (map: message values)
}

interface MessagePlan {
  readonly desc: DescMessage;
  readonly fields: FieldPlan[]; // ascending field number
  readonly byNo: (FieldPlan | undefined)[];
  readonly byNoMap: Map<number, FieldPlan> | undefined; // when field numbers are too large for byNo
  materialized: FieldPlan[];
  zeroMessage: AnyMessage | undefined; // canonical empty instance (never mutated), for value messages
}

const plans = new Map<DescMessage, MessagePlan>();

/** @internal */
export function planFor(desc: DescMessage): MessagePlan {
  let plan = plans.get(desc);
  if (plan) return plan;
  const fields: FieldPlan[] = [];
  plan = { desc, fields, byNo: [], byNoMap: undefined, materialized: [], zeroMessage: undefined };
  plans.set(desc, plan); // before recursing: message types are recursive (Action <-> TimeoutAction)
  const sorted = [...desc.fields].sort((a, b) => a.number - b.number);
  let maxNo = 0;
  for (const f of sorted) {
    const fp = fieldPlan(f);
    fields.push(fp);
    maxNo = Math.max(maxNo, fp.no);
  }
  if (maxNo < 1024) {
    const byNo: (FieldPlan | undefined)[] = new Array(maxNo + 1).fill(undefined);
    for (const fp of fields) byNo[fp.no] = fp;
    (plan as { byNo: (FieldPlan | undefined)[] }).byNo = byNo;
  } else {
    (plan as { byNoMap: Map<number, FieldPlan> }).byNoMap = new Map(fields.map((fp) => [fp.no, fp]));
  }
  plan.materialized = fields.filter((fp) => fp.materialize);
  return plan;
}

function fieldPlan(f: DescField): FieldPlan {
  let shape = FIELD_SINGULAR;
  let kind: number;
  let mapKey = ScalarType.STRING;
  let sub: DescMessage | undefined;
  let zero: unknown = undefined;
  switch (f.fieldKind) {
    case "scalar":
      kind = f.scalar;
      zero = f.getDefaultValue() ?? scalarZero(f.scalar);
      break;
    case "enum":
      kind = KIND_ENUM;
      zero = f.getDefaultValue() ?? f.enum.values[0]?.number ?? 0;
      break;
    case "message":
      kind = KIND_MESSAGE;
      sub = f.message;
      break;
    case "list":
      shape = FIELD_LIST;
      kind = f.listKind === "scalar" ? f.scalar : f.listKind === "enum" ? KIND_ENUM : KIND_MESSAGE;
      if (f.listKind === "message") sub = f.message;
      break;
    case "map":
      shape = FIELD_MAP;
      mapKey = f.mapKey;
      kind = f.mapKind === "scalar" ? f.scalar : f.mapKind === "enum" ? KIND_ENUM : KIND_MESSAGE;
      if (f.mapKind === "message") sub = f.message;
      break;
  }
  const wireType = shape === FIELD_MAP ? WT_LEN : wireTypeOf(kind);
  if (f.fieldKind === "message" && f.delimitedEncoding) {
    throw new Error(`codec: group encoding is not supported (${qualified(f)})`);
  }
  const nullable = NULLABLE_SCALARS.has(qualified(f)) || kind === ScalarType.BYTES;
  const valueMessage = VALUE_MESSAGES.has(qualified(f));
  const always = shape === FIELD_SINGULAR && (kind === KIND_MESSAGE ? valueMessage : !nullable);
  const fp: FieldPlan = {
    no: f.number,
    name: f.localName,
    goName: goFieldName(f.name),
    shape,
    kind,
    mapKey,
    wireType,
    packable: shape === FIELD_LIST && wireType !== WT_LEN,
    tag: varintBytes(((f.number << 3) | wireType) >>> 0),
    always,
    materialize: always,
    routes: ROUTES_FIELDS.has(qualified(f)),
    zero,
    msg: undefined,
  };
  if (sub) fp.msg = planFor(sub);
  return fp;
}

function goFieldName(protoName: string): string {
  return protoName
    .split("_")
    .map((s) => (s ? s[0]!.toUpperCase() + s.slice(1) : s))
    .join("");
}

function wireTypeOf(kind: number): number {
  switch (kind) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WT_I64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WT_I32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
    case KIND_MESSAGE:
      return WT_LEN;
    default:
      return WT_VARINT;
  }
}

function scalarZero(t: ScalarType): unknown {
  switch (t) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return new Uint8Array(0);
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return 0n;
    default:
      return 0;
  }
}

function varintBytes(v: number): Uint8Array {
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}

const hasOwn = Object.prototype.hasOwnProperty;

/** @internal A new message of the plan's type in canonical form (value fields set). */
export function newMessage(plan: MessagePlan): AnyMessage {
  const msg = create(plan.desc) as AnyMessage;
  fillValueFields(plan, msg);
  return msg;
}

/** @internal Sets every Go value field (non-nullable scalar, value message) that is not set yet. */
export function fillValueFields(plan: MessagePlan, msg: AnyMessage): void {
  const m = plan.materialized;
  for (let i = 0; i < m.length; i++) {
    const f = m[i]!;
    if (f.kind === KIND_MESSAGE) {
      if (msg[f.name] === undefined) msg[f.name] = newMessage(f.msg!);
    } else if (!hasOwn.call(msg, f.name) || msg[f.name] === undefined) {
      msg[f.name] = f.zero;
    }
  }
}

function zeroMessageOf(plan: MessagePlan): AnyMessage {
  return (plan.zeroMessage ??= newMessage(plan));
}

/**
 * Brings a message (e.g. one made with `create`) into the canonical form decoded messages have: all
 * Go value fields set, recursively. Mutates and returns `msg`. Useful before `equals`.
 */
export function normalizeMessage<Desc extends DescMessage>(schema: Desc, msg: MessageShape<Desc>): MessageShape<Desc> {
  normalizeInto(planFor(schema), msg as AnyMessage);
  return msg;
}

function normalizeInto(plan: MessagePlan, msg: AnyMessage): void {
  fillValueFields(plan, msg);
  for (const f of plan.fields) {
    if (f.kind !== KIND_MESSAGE) continue;
    const v = msg[f.name];
    if (v === undefined || v === null) continue;
    if (f.shape === FIELD_LIST) for (const e of v as AnyMessage[]) normalizeInto(f.msg!, e);
    else if (f.shape === FIELD_MAP) for (const e of Object.values(v as Record<string, AnyMessage>)) normalizeInto(f.msg!, e);
    else normalizeInto(f.msg!, v as AnyMessage);
  }
}

// ---------------------------------------------------------------------------------------------------
// Decoding

const MAX_DEPTH = 100;
const utf8Decoder = new TextDecoder("utf-8"); // replacement, not fatal: Go does not validate UTF-8

class Reader {
  pos = 0;
  end: number;
  lo = 0;
  hi = 0;
  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  /** A varint's low 32 bits, unsigned. Like gogo's loops: no length limit, excess bits dropped. */
  uint32(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      if (pos >= end) throw unexpectedEOF();
      b = buf[pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    this.pos = pos;
    return result >>> 0;
  }

  /** A varint's low 64 bits into this.lo / this.hi (unsigned 32-bit halves). */
  varint64(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let b: number;
    do {
      if (pos >= end) throw unexpectedEOF();
      b = buf[pos++]!;
      const v = b & 0x7f;
      if (shift < 28) lo |= v << shift;
      else if (shift === 28) {
        lo |= v << 28;
        hi |= v >>> 4;
      } else if (shift < 64) hi |= v << (shift - 32);
      shift += 7;
    } while (b & 0x80);
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** Reads a length prefix and returns the end offset of the delimited bytes. */
  delimited(): number {
    this.varint64();
    const len = this.hi === 0 ? this.lo : Infinity;
    if (len > this.end - this.pos) throw unexpectedEOF();
    return this.pos + len;
  }

  fixed32(): number {
    const pos = this.pos;
    if (pos + 4 > this.end) throw unexpectedEOF();
    const b = this.buf;
    this.pos = pos + 4;
    return (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
  }

  fixed64(): void {
    this.lo = this.fixed32();
    this.hi = this.fixed32();
  }
}

function unexpectedEOF(): DecodeError {
  return new DecodeError("unexpected EOF");
}

function readString(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return "";
  if (len <= 64) {
    let s = "";
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8Decoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Decoder.decode(buf.subarray(start, end));
}

function toUint64(lo: number, hi: number): bigint {
  if (hi < 0x200000) return BigInt(hi * 4294967296 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function toInt64(lo: number, hi: number): bigint {
  if (hi < 0x200000) return BigInt(hi * 4294967296 + lo);
  if (hi >= 0xffe00000) return BigInt((hi - 4294967296) * 4294967296 + lo);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

function readScalar(r: Reader, kind: number): unknown {
  switch (kind) {
    case ScalarType.STRING: {
      const end = r.delimited();
      const s = readString(r.buf, r.pos, end);
      r.pos = end;
      return s;
    }
    case ScalarType.BYTES: {
      const end = r.delimited();
      const b = r.buf.slice(r.pos, end);
      r.pos = end;
      return b;
    }
    case ScalarType.INT32:
    case KIND_ENUM:
      return r.uint32() | 0;
    case ScalarType.UINT32:
      return r.uint32();
    case ScalarType.BOOL:
      r.varint64();
      return (r.lo | r.hi) !== 0;
    case ScalarType.INT64:
      r.varint64();
      return toInt64(r.lo, r.hi);
    case ScalarType.UINT64:
      r.varint64();
      return toUint64(r.lo, r.hi);
    case ScalarType.SINT32: {
      const n = r.uint32();
      return (n >>> 1) ^ -(n & 1);
    }
    case ScalarType.SINT64: {
      r.varint64();
      const u = toUint64(r.lo, r.hi);
      return (u >> 1n) ^ -(u & 1n);
    }
    case ScalarType.FIXED32:
      return r.fixed32();
    case ScalarType.SFIXED32:
      return r.fixed32() | 0;
    case ScalarType.FIXED64:
      r.fixed64();
      return toUint64(r.lo, r.hi);
    case ScalarType.SFIXED64:
      r.fixed64();
      return toInt64(r.lo, r.hi);
    case ScalarType.FLOAT: {
      const pos = r.pos;
      r.fixed32();
      return new DataView(r.buf.buffer, r.buf.byteOffset + pos, 4).getFloat32(0, true);
    }
    case ScalarType.DOUBLE: {
      const pos = r.pos;
      r.fixed64();
      return new DataView(r.buf.buffer, r.buf.byteOffset + pos, 8).getFloat64(0, true);
    }
  }
  throw new Error(`codec: unsupported kind ${kind}`);
}

/** Skips one field's value, like gogo's skip functions (wire types 0–5; 6 and 7 are illegal). */
function skipField(r: Reader, wireType: number, depth: number): void {
  switch (wireType) {
    case WT_VARINT:
      r.varint64();
      return;
    case WT_I64:
      if (r.pos + 8 > r.end) throw unexpectedEOF();
      r.pos += 8;
      return;
    case WT_LEN:
      r.pos = r.delimited();
      return;
    case 3: // start group: skip fields until an end group
      if (depth > MAX_DEPTH) throw new DecodeError("proto: nesting too deep");
      for (;;) {
        const tag = r.uint32();
        if ((tag & 7) === 4) return;
        skipField(r, tag & 7, depth + 1);
      }
    case 4: // end group: nothing to skip
      return;
    case WT_I32:
      if (r.pos + 4 > r.end) throw unexpectedEOF();
      r.pos += 4;
      return;
    default:
      throw new DecodeError(`proto: illegal wireType ${wireType}`);
  }
}

function decodeInto(plan: MessagePlan, r: Reader, msg: AnyMessage, depth: number): void {
  if (depth > MAX_DEPTH) throw new DecodeError("proto: nesting too deep");
  const byNo = plan.byNo;
  const byNoMap = plan.byNoMap;
  while (r.pos < r.end) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    const f = byNoMap ? byNoMap.get(no) : no < byNo.length ? byNo[no] : undefined;
    if (f === undefined) {
      skipField(r, wt, depth);
      continue;
    }
    if (f.shape === FIELD_SINGULAR) {
      if (wt !== f.wireType) throw wrongWireType(wt, f);
      if (f.kind === KIND_MESSAGE) {
        const end = r.delimited();
        let sub = msg[f.name] as AnyMessage | undefined;
        if (sub === undefined) sub = create(f.msg!.desc) as AnyMessage;
        decodeSub(f.msg!, r, end, sub, depth);
        msg[f.name] = sub;
      } else if (f.routes) {
        const end = r.delimited();
        msg[f.name] = canonicalRoutesBytes(r.buf, r.pos, end);
        r.pos = end;
      } else {
        msg[f.name] = readScalar(r, f.kind);
      }
    } else if (f.shape === FIELD_LIST) {
      const list = msg[f.name] as unknown[];
      if (wt === f.wireType) {
        if (f.kind === KIND_MESSAGE) {
          const end = r.delimited();
          const sub = create(f.msg!.desc) as AnyMessage;
          decodeSub(f.msg!, r, end, sub, depth);
          list.push(sub);
        } else {
          list.push(readScalar(r, f.kind));
        }
      } else if (wt === WT_LEN && f.packable) {
        const end = r.delimited();
        const outer = r.end;
        r.end = end;
        while (r.pos < end) list.push(readScalar(r, f.kind));
        r.end = outer;
      } else {
        throw wrongWireType(wt, f);
      }
    } else {
      if (wt !== WT_LEN) throw wrongWireType(wt, f);
      const end = r.delimited();
      readMapEntry(f, r, end, msg[f.name] as Record<string, unknown>, depth);
    }
  }
  fillValueFields(plan, msg);
}

function decodeSub(plan: MessagePlan, r: Reader, end: number, msg: AnyMessage, depth: number): void {
  const outer = r.end;
  r.end = end;
  decodeInto(plan, r, msg, depth + 1);
  r.end = outer;
}

function readMapEntry(f: FieldPlan, r: Reader, end: number, map: Record<string, unknown>, depth: number): void {
  const outer = r.end;
  r.end = end;
  let key: unknown = undefined;
  let value: unknown = undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 1) {
      if (wt !== wireTypeOf(f.mapKey)) throw wrongWireType(wt, f);
      key = readScalar(r, f.mapKey);
    } else if (no === 2) {
      if (wt !== f.wireType && !(f.kind === KIND_MESSAGE && wt === WT_LEN)) throw wrongWireType(wt, f);
      if (f.kind === KIND_MESSAGE) {
        const subEnd = r.delimited();
        const sub = (value as AnyMessage | undefined) ?? (create(f.msg!.desc) as AnyMessage);
        decodeSub(f.msg!, r, subEnd, sub, depth);
        value = sub;
      } else {
        value = readScalar(r, f.kind);
      }
    } else {
      skipField(r, wt, depth);
    }
  }
  r.end = outer;
  if (key === undefined) key = scalarZero(f.mapKey);
  if (value === undefined) value = f.kind === KIND_MESSAGE ? newMessage(f.msg!) : f.kind === KIND_ENUM ? 0 : scalarZero(f.kind);
  const k = String(key);
  if (k === "__proto__") Object.defineProperty(map, k, { value, enumerable: true, writable: true, configurable: true });
  else map[k] = value;
}

function wrongWireType(wt: number, f: FieldPlan): DecodeError {
  if (wt === 6 || wt === 7) return new DecodeError(`proto: illegal wireType ${wt}`);
  return new DecodeError(`proto: wrong wireType = ${wt} for field ${f.goName}`);
}

/**
 * Validates the bytes of a `routes` field as a ProtoRoutes message and returns them in the form the
 * original re-emits (entries sorted by key, key and value always written, unknown fields dropped,
 * last duplicate wins). Canonical input is copied without re-encoding.
 */
function canonicalRoutesBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const r = new Reader(buf);
  r.pos = start;
  r.end = end;
  let canonical = true;
  let prevKey: Uint8Array | undefined;
  const entries = new Map<string, Uint8Array>();
  while (r.pos < end) {
    const entryStart = r.pos;
    const tag = r.uint32();
    if (tag >>> 3 !== 1) {
      skipField(r, tag & 7, 0);
      canonical = false;
      continue;
    }
    if ((tag & 7) !== WT_LEN) throw new DecodeError(`proto: wrong wireType = ${tag & 7} for field Routes`);
    const entryEnd = r.delimited();
    r.end = entryEnd;
    let keyStart = -1;
    let keyEnd = -1;
    let valStart = -1;
    let valEnd = -1;
    let fieldsSeen = 0;
    while (r.pos < entryEnd) {
      const t = r.uint32();
      const no = t >>> 3;
      const wt = t & 7;
      fieldsSeen++;
      if ((no === 1 || no === 2) && wt === WT_LEN) {
        const e = r.delimited();
        if (no === 1) {
          canonical &&= fieldsSeen === 1;
          keyStart = r.pos;
          keyEnd = e;
        } else {
          canonical &&= fieldsSeen === 2;
          valStart = r.pos;
          valEnd = e;
        }
        r.pos = e;
      } else if (no === 1 || no === 2) {
        throw new DecodeError(`proto: wrong wireType = ${wt} for field Routes`);
      } else {
        canonical = false;
        skipField(r, wt, 0);
      }
    }
    r.end = end;
    const key = keyStart < 0 ? new Uint8Array(0) : buf.subarray(keyStart, keyEnd);
    const value = valStart < 0 ? new Uint8Array(0) : buf.subarray(valStart, valEnd);
    if (fieldsSeen !== 2 || keyStart < 0 || valStart < 0) canonical = false;
    if (canonical) {
      if (prevKey !== undefined && compareBytes(prevKey, key) >= 0) canonical = false;
      // minimal varints: the canonical entry size must match what is there
      const size = 1 + varintSize(key.length) + key.length + 1 + varintSize(value.length) + value.length;
      if (entryEnd - entryStart !== 1 + varintSize(size) + size) canonical = false;
    }
    prevKey = key;
    entries.set(readString(key, 0, key.length), value);
  }
  if (canonical) return buf.slice(start, end);
  const keys = [...entries.keys()].sort(compareUtf8);
  const w = new Writer(64);
  for (const k of keys) writeRouteEntry(w, k, entries.get(k)!);
  return w.finish();
}

/** Go's sort.Strings order: bytewise over UTF-8, i.e. code point order. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // surrogates (U+D800–U+DFFF, i.e. code points ≥ U+10000) sort after U+E000–U+FFFF in UTF-8
    if (ca >= 0xd800 && ca <= 0xdfff) ca += 0x10000;
    if (cb >= 0xd800 && cb <= 0xdfff) cb += 0x10000;
    return ca - cb;
  }
  return a.length - b.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** @internal Writes one ProtoRoutes entry: `0a len 0a klen key 12 vlen value`. */
export function writeRouteEntry(w: Writer, key: string, value: Uint8Array): void {
  const klen = utf8Length(key);
  const size = 1 + varintSize(klen) + klen + 1 + varintSize(value.length) + value.length;
  w.ensure(1 + 5 + size);
  w.buf[w.pos++] = 0x0a;
  w.varint32(size);
  w.buf[w.pos++] = 0x0a;
  w.varint32(klen);
  w.stringBody(key, klen);
  w.buf[w.pos++] = 0x12;
  w.varint32(value.length);
  w.buf.set(value, w.pos);
  w.pos += value.length;
}

/** Decodes protobuf bytes into a message of `schema`; throws DecodeError on malformed input. */
export function decodeMessage<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  const plan = planFor(schema);
  const msg = create(schema) as AnyMessage;
  const r = new Reader(bytes);
  decodeInto(plan, r, msg, 0);
  return msg as MessageShape<Desc>;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

const utf8Encoder = new TextEncoder();

/** @internal A growable byte buffer. */
export class Writer {
  buf: Uint8Array;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Caller ensured 5 bytes. */
  varint32(v: number): void {
    const buf = this.buf;
    v >>>= 0;
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** Caller ensured 10 bytes. */
  varint64(lo: number, hi: number): void {
    const buf = this.buf;
    while (hi > 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  bytes(tag: Uint8Array): void {
    this.ensure(tag.length);
    this.buf.set(tag, this.pos);
    this.pos += tag.length;
  }

  /** Writes the UTF-8 bytes of `s` (byte length `len`); caller ensured room. */
  stringBody(s: string, len: number): void {
    if (len === s.length) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
      this.pos = pos;
    } else {
      this.pos += utf8Encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len)).written;
    }
  }
}

/** UTF-8 byte length of a JS string (lone surrogates count as U+FFFD, as TextEncoder writes them). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 4 bytes for 2 UTF-16 units
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

let shared = new Writer(16 * 1024);

/** Encodes a message as the original Go server/client would (see the header of this file). */
export function encodeMessage<Desc extends DescMessage>(schema: Desc, msg: MessageShape<Desc>): Uint8Array {
  const plan = planFor(schema);
  const w = shared;
  w.pos = 0;
  try {
    encodeInto(plan, msg as AnyMessage, w);
    return w.finish();
  } finally {
    if (w.buf.length > 1024 * 1024) shared = new Writer(16 * 1024);
  }
}

function encodeInto(plan: MessagePlan, msg: AnyMessage, w: Writer): void {
  const fields = plan.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const v = msg[f.name];
    if (f.shape === FIELD_SINGULAR) {
      if (f.kind === KIND_MESSAGE) {
        if (v !== undefined && v !== null) writeSubMessage(w, f, v as AnyMessage);
        else if (f.always) writeSubMessage(w, f, zeroMessageOf(f.msg!));
      } else if (f.always) {
        w.bytes(f.tag);
        writeScalar(w, f.kind, v === undefined || v === null ? f.zero : v);
      } else if (v !== undefined && v !== null && hasOwn.call(msg, f.name)) {
        w.bytes(f.tag);
        writeScalar(w, f.kind, v);
      }
    } else if (f.shape === FIELD_LIST) {
      if (v === undefined || v === null) continue;
      const list = v as unknown[];
      for (let j = 0; j < list.length; j++) {
        if (f.kind === KIND_MESSAGE) writeSubMessage(w, f, list[j] as AnyMessage);
        else {
          w.bytes(f.tag);
          writeScalar(w, f.kind, list[j]);
        }
      }
    } else if (v !== undefined && v !== null) {
      writeMap(w, f, v as Record<string, unknown>);
    }
  }
}

function writeSubMessage(w: Writer, f: FieldPlan, sub: AnyMessage): void {
  w.bytes(f.tag);
  w.ensure(1);
  const start = w.pos++;
  encodeInto(f.msg!, sub, w);
  patchLength(w, start);
}

/** The length was reserved as one byte at `start`; shift the body if the varint needs more. */
function patchLength(w: Writer, start: number): void {
  const len = w.pos - start - 1;
  if (len < 0x80) {
    w.buf[start] = len;
    return;
  }
  const n = varintSize(len);
  w.ensure(n - 1);
  w.buf.copyWithin(start + n, start + 1, w.pos);
  w.pos += n - 1;
  const end = w.pos;
  w.pos = start;
  w.varint32(len);
  w.pos = end;
}

function writeMap(w: Writer, f: FieldPlan, map: Record<string, unknown>): void {
  const keys = Object.keys(map);
  if (keys.length === 0) return;
  if (f.mapKey === ScalarType.STRING) keys.sort(compareUtf8);
  else if (f.mapKey === ScalarType.BOOL) keys.sort();
  else keys.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  const keyTag = varintBytes((1 << 3) | wireTypeOf(f.mapKey));
  const valTag = varintBytes((2 << 3) | (f.kind === KIND_MESSAGE ? WT_LEN : f.wireType));
  for (const k of keys) {
    w.bytes(f.tag);
    w.ensure(1);
    const start = w.pos++;
    w.bytes(keyTag);
    writeScalar(w, f.mapKey, mapKeyValue(f.mapKey, k));
    const v = map[k];
    w.bytes(valTag);
    if (f.kind === KIND_MESSAGE) {
      w.ensure(1);
      const s = w.pos++;
      encodeInto(f.msg!, (v as AnyMessage | undefined) ?? zeroMessageOf(f.msg!), w);
      patchLength(w, s);
    } else {
      writeScalar(w, f.kind, v ?? (f.kind === KIND_ENUM ? 0 : scalarZero(f.kind)));
    }
    patchLength(w, start);
  }
}

function mapKeyValue(t: ScalarType, k: string): unknown {
  switch (t) {
    case ScalarType.STRING:
      return k;
    case ScalarType.BOOL:
      return k === "true";
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return BigInt(k);
    default:
      return Number(k);
  }
}

function writeScalar(w: Writer, kind: number, v: unknown): void {
  switch (kind) {
    case ScalarType.STRING: {
      const s = v as string;
      const len = utf8Length(s);
      w.ensure(5 + len);
      w.varint32(len);
      w.stringBody(s, len);
      return;
    }
    case ScalarType.BYTES: {
      const b = v as Uint8Array;
      w.ensure(5 + b.length);
      w.varint32(b.length);
      w.buf.set(b, w.pos);
      w.pos += b.length;
      return;
    }
    case ScalarType.INT32:
    case KIND_ENUM: {
      const n = Number(v) | 0;
      w.ensure(10);
      if (n >= 0) w.varint32(n);
      else w.varint64(n >>> 0, 0xffffffff); // sign-extended to 64 bits: 10 bytes
      return;
    }
    case ScalarType.UINT32:
      w.ensure(5);
      w.varint32(Number(v));
      return;
    case ScalarType.BOOL:
      w.ensure(1);
      w.buf[w.pos++] = v ? 1 : 0;
      return;
    case ScalarType.INT64:
    case ScalarType.UINT64: {
      w.ensure(10);
      writeVarint64(w, v);
      return;
    }
    case ScalarType.SINT32: {
      const n = Number(v) | 0;
      w.ensure(5);
      w.varint32(((n << 1) ^ (n >> 31)) >>> 0);
      return;
    }
    case ScalarType.SINT64: {
      const n = BigInt.asIntN(64, toBigInt(v));
      w.ensure(10);
      writeVarint64(w, (n << 1n) ^ (n >> 63n));
      return;
    }
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      w.ensure(4);
      writeFixed32(w, Number(v) >>> 0);
      return;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64: {
      const n = BigInt.asUintN(64, toBigInt(v));
      w.ensure(8);
      writeFixed32(w, Number(n & 0xffffffffn));
      writeFixed32(w, Number(n >> 32n));
      return;
    }
    case ScalarType.FLOAT:
      w.ensure(4);
      new DataView(w.buf.buffer, w.buf.byteOffset + w.pos, 4).setFloat32(0, Number(v), true);
      w.pos += 4;
      return;
    case ScalarType.DOUBLE:
      w.ensure(8);
      new DataView(w.buf.buffer, w.buf.byteOffset + w.pos, 8).setFloat64(0, Number(v), true);
      w.pos += 8;
      return;
  }
  throw new Error(`codec: unsupported kind ${kind}`);
}

function toBigInt(v: unknown): bigint {
  return typeof v === "bigint" ? v : BigInt(v as number | string);
}

function writeVarint64(w: Writer, v: unknown): void {
  if (typeof v === "number" && v >= 0 && v <= 0xffffffff && Number.isInteger(v)) {
    w.varint32(v);
    return;
  }
  const n = BigInt.asUintN(64, toBigInt(v));
  if (n <= 0xffffffffn) w.varint32(Number(n));
  else w.varint64(Number(n & 0xffffffffn), Number(n >> 32n));
}

function writeFixed32(w: Writer, v: number): void {
  const buf = w.buf;
  buf[w.pos++] = v & 0xff;
  buf[w.pos++] = (v >>> 8) & 0xff;
  buf[w.pos++] = (v >>> 16) & 0xff;
  buf[w.pos++] = (v >>> 24) & 0xff;
}

// ---------------------------------------------------------------------------------------------------
// Canonical encodings: stored bytes a response can carry as they are
//
// Listing endpoints used to decode every stored record and encode it again into the response; at
// 50,000 records that was most of the listing's time and, with every decoded record alive at once
// (~10 KB of objects for a 700-byte DesiredLRP), most of its garbage collection. A record whose bytes
// are *canonical* — they decode, and encoding the decoded message gives back exactly these bytes —
// can be copied into the response instead: the result is byte for byte what decode + encode would
// have produced. Everything this codec writes is canonical; anything else (unknown fields, packed
// lists, non-minimal varints, invalid UTF-8, fields out of order, missing Go value fields, maps,
// floats) is reported as not canonical, and the caller decodes and re-encodes that record as before,
// which also raises exactly the decode errors it always did.

/** A varint's low 64 bits and its length in bytes; `len` 0 when it runs past `end` or beyond 10 bytes. */
interface ScannedVarint {
  lo: number;
  hi: number;
  len: number;
  last: number;
}
const scanned: ScannedVarint = { lo: 0, hi: 0, len: 0, last: 0 };

function scanVarint(buf: Uint8Array, pos: number, end: number): ScannedVarint {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let len = 0;
  let b: number;
  do {
    if (pos >= end || len >= 10) {
      scanned.len = 0;
      return scanned;
    }
    b = buf[pos++]!;
    len++;
    const v = b & 0x7f;
    if (shift < 28) lo |= v << shift;
    else if (shift === 28) {
      lo |= v << 28;
      hi |= v >>> 4;
    } else hi |= v << (shift - 32);
    shift += 7;
  } while (b & 0x80);
  scanned.lo = lo >>> 0;
  scanned.hi = hi >>> 0;
  scanned.len = len;
  scanned.last = b;
  return scanned;
}

/** Bytes of the shortest varint of the 64-bit value hi:lo. */
function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo);
  let n = 5; // at least 29 bits of hi's side: ≥ 5 bytes
  let h = hi >>> 3; // bits 35 and up
  while (h > 0) {
    n++;
    h >>>= 7;
  }
  return n;
}

/** A minimal 64-bit varint: as writeVarint64 / varint64 write it. */
function isMinimal64(v: ScannedVarint): boolean {
  return v.len === varint64Size(v.lo, v.hi) && (v.len < 10 || v.last === 1);
}

/** Well-formed UTF-8 (what TextDecoder decodes without replacement characters). */
function isValidUtf8(buf: Uint8Array, pos: number, end: number): boolean {
  while (pos < end) {
    const c = buf[pos]!;
    if (c < 0x80) {
      pos++;
      continue;
    }
    let need: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lower = 0xa0;
      else if (c === 0xed) upper = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lower = 0x90;
      else if (c === 0xf4) upper = 0x8f;
    } else return false;
    if (pos + need >= end) return false;
    const b1 = buf[pos + 1]!;
    if (b1 < lower || b1 > upper) return false;
    for (let i = 2; i <= need; i++) {
      const b = buf[pos + i]!;
      if (b < 0x80 || b > 0xbf) return false;
    }
    pos += need + 1;
  }
  return true;
}

/**
 * Routes bytes that canonicalRoutesBytes returns unchanged, judged without allocating: entries of
 * exactly key then value, minimal varints, keys strictly ascending bytewise.
 */
function isCanonicalRoutes(buf: Uint8Array, pos: number, end: number): boolean {
  let prevStart = -1;
  let prevEnd = -1;
  while (pos < end) {
    const entryStart = pos;
    if (buf[pos++] !== 0x0a) return false;
    let v = scanVarint(buf, pos, end);
    if (v.len === 0 || v.hi !== 0) return false;
    pos += v.len;
    const entryEnd = pos + v.lo;
    if (entryEnd > end || pos >= entryEnd || buf[pos++] !== 0x0a) return false;
    v = scanVarint(buf, pos, entryEnd);
    if (v.len === 0 || v.hi !== 0) return false;
    pos += v.len;
    const keyStart = pos;
    const keyLen = v.lo;
    pos += keyLen;
    if (pos >= entryEnd || buf[pos++] !== 0x12) return false;
    v = scanVarint(buf, pos, entryEnd);
    if (v.len === 0 || v.hi !== 0) return false;
    pos += v.len;
    const valueLen = v.lo;
    if (pos + valueLen !== entryEnd) return false;
    pos = entryEnd;
    const size = 1 + varintSize(keyLen) + keyLen + 1 + varintSize(valueLen) + valueLen;
    if (entryEnd - entryStart !== 1 + varintSize(size) + size) return false;
    if (prevStart >= 0) {
      // strictly ascending, bytewise
      const n = Math.min(prevEnd - prevStart, keyLen);
      let c = 0;
      for (let i = 0; i < n && c === 0; i++) c = buf[prevStart + i]! - buf[keyStart + i]!;
      if (c > 0 || (c === 0 && prevEnd - prevStart >= keyLen)) return false;
    }
    prevStart = keyStart;
    prevEnd = keyStart + keyLen;
  }
  return true;
}

/** The canonical form of one scalar at `pos`; returns the position after it, or -1. */
function scanScalar(buf: Uint8Array, pos: number, end: number, kind: number): number {
  switch (kind) {
    case ScalarType.STRING:
    case ScalarType.BYTES: {
      const v = scanVarint(buf, pos, end);
      if (v.len === 0 || v.hi !== 0 || v.len !== varintSize(v.lo)) return -1;
      const start = pos + v.len;
      const stop = start + v.lo;
      if (stop > end) return -1;
      if (kind === ScalarType.STRING && !isValidUtf8(buf, start, stop)) return -1;
      return stop;
    }
    case ScalarType.INT32:
    case KIND_ENUM: {
      const v = scanVarint(buf, pos, end);
      if (v.len === 0) return -1;
      const ok = v.lo < 0x80000000 ? v.hi === 0 && v.len === varintSize(v.lo) : v.hi === 0xffffffff && v.len === 10 && v.last === 1;
      return ok ? pos + v.len : -1;
    }
    case ScalarType.UINT32:
    case ScalarType.SINT32: {
      const v = scanVarint(buf, pos, end);
      return v.len !== 0 && v.hi === 0 && v.len === varintSize(v.lo) ? pos + v.len : -1;
    }
    case ScalarType.BOOL: {
      const v = scanVarint(buf, pos, end);
      return v.len === 1 && v.lo <= 1 ? pos + 1 : -1;
    }
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64: {
      const v = scanVarint(buf, pos, end);
      return v.len !== 0 && isMinimal64(v) ? pos + v.len : -1;
    }
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return pos + 4 <= end ? pos + 4 : -1;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return pos + 8 <= end ? pos + 8 : -1;
    default:
      // FLOAT and DOUBLE (NaN payloads need not survive a round trip; the BBS has none): not canonical.
      return -1;
  }
}

function scanCanonical(plan: MessagePlan, buf: Uint8Array, pos: number, end: number, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  const fields = plan.fields;
  let next = 0; // index in `fields` of the first field not yet passed
  let lastNo = 0;
  while (pos < end) {
    const t = scanVarint(buf, pos, end);
    if (t.len === 0 || t.hi !== 0 || t.len !== varintSize(t.lo)) return false;
    pos += t.len;
    const no = t.lo >>> 3;
    const wt = t.lo & 7;
    let f: FieldPlan;
    if (no === lastNo && no !== 0) {
      f = fields[next - 1]!;
      if (f.shape !== FIELD_LIST) return false; // a singular field twice
    } else {
      if (no < lastNo) return false;
      while (next < fields.length && fields[next]!.no < no) {
        if (fields[next]!.always) return false; // a Go value field the encoder would have written
        next++;
      }
      if (next >= fields.length || fields[next]!.no !== no) return false; // unknown field
      f = fields[next++]!;
      lastNo = no;
    }
    if (f.shape === FIELD_MAP || wt !== f.wireType) return false; // maps, packed lists, wrong wire types
    if (f.kind === KIND_MESSAGE) {
      const v = scanVarint(buf, pos, end);
      if (v.len === 0 || v.hi !== 0 || v.len !== varintSize(v.lo)) return false;
      const start = pos + v.len;
      const stop = start + v.lo;
      if (stop > end || !scanCanonical(f.msg!, buf, start, stop, depth + 1)) return false;
      pos = stop;
    } else if (f.routes) {
      const v = scanVarint(buf, pos, end);
      if (v.len === 0 || v.hi !== 0 || v.len !== varintSize(v.lo)) return false;
      const start = pos + v.len;
      const stop = start + v.lo;
      if (stop > end || !isCanonicalRoutes(buf, start, stop)) return false;
      pos = stop;
    } else {
      pos = scanScalar(buf, pos, end, f.kind);
      if (pos < 0) return false;
    }
  }
  if (pos !== end) return false;
  for (; next < fields.length; next++) if (fields[next]!.always) return false;
  return true;
}

/**
 * True when `bytes` decode (decodeMessage would not throw) and encoding the decoded message gives back
 * exactly `bytes`; false when that is not certain. Allocates nothing for messages without routes.
 */
export function isCanonicalEncoding(schema: DescMessage, bytes: Uint8Array): boolean {
  return scanCanonical(planFor(schema), bytes, 0, bytes.length, 0);
}

/**
 * The string in top-level field `fieldNo` of bytes that isCanonicalEncoding accepted ("" when absent):
 * a sort key read without decoding the message.
 */
export function canonicalStringField(bytes: Uint8Array, fieldNo: number): string {
  let pos = 0;
  while (pos < bytes.length) {
    const t = scanVarint(bytes, pos, bytes.length);
    pos += t.len;
    const no = t.lo >>> 3;
    const wt = t.lo & 7;
    if (wt === WT_LEN) {
      const v = scanVarint(bytes, pos, bytes.length);
      const start = pos + v.len;
      pos = start + v.lo;
      if (no === fieldNo) return readString(bytes, start, pos);
    } else if (wt === WT_VARINT) {
      pos += scanVarint(bytes, pos, bytes.length).len;
    } else if (wt === WT_I64) pos += 8;
    else if (wt === WT_I32) pos += 4;
    else throw new DecodeError(`canonicalStringField: wire type ${wt} in canonical bytes`);
    if (no > fieldNo) break;
  }
  return "";
}

/** An element of a repeated message field given as its own length-delimited message fields. */
export interface EncodedElement {
  /** Top-level fields of the element, in ascending field number: [field number, canonical message bytes]. */
  fields: readonly (readonly [number, Uint8Array])[];
}

const delimitedSize = (fieldNo: number, len: number) => varintSize(((fieldNo << 3) | WT_LEN) >>> 0) + varintSize(len) + len;

function writeDelimitedHeader(w: Writer, fieldNo: number, len: number): void {
  w.varint32(((fieldNo << 3) | WT_LEN) >>> 0);
  w.varint32(len);
}

/**
 * Encodes a response whose only field set is the repeated message field `listField`, from elements
 * given as bytes: an element is either the canonical bytes of the element message itself, or (for a
 * wrapper such as ActualLRPGroup) the canonical bytes of its message fields. Equals encodeMessage of
 * the decoded equivalent. Throws if the schema writes anything for an otherwise empty message.
 * `allocate` must return exactly `size` writable bytes (the result is written into them).
 */
export function encodeListResponse<Desc extends DescMessage>(
  schema: Desc,
  listField: string,
  elements: readonly (Uint8Array | EncodedElement)[],
  allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): Uint8Array {
  const plan = planFor(schema);
  const f = plan.fields.find((x) => x.name === listField);
  if (!f || f.shape !== FIELD_LIST || f.kind !== KIND_MESSAGE) throw new Error(`codec: ${schema.typeName}.${listField} is not a repeated message field`);
  if (encodeMessage(schema, create(schema) as MessageShape<Desc>).length !== 0) {
    throw new Error(`codec: ${schema.typeName} writes fields when empty; encodeListResponse cannot splice it`);
  }
  const sizes = new Array<number>(elements.length);
  let total = 0;
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    let len: number;
    if (e instanceof Uint8Array) len = e.length;
    else {
      len = 0;
      for (const [no, bytes] of e.fields) len += delimitedSize(no, bytes.length);
    }
    sizes[i] = len;
    total += delimitedSize(f.no, len);
  }
  const w = new Writer(0);
  w.buf = allocate(total);
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    writeDelimitedHeader(w, f.no, sizes[i]!);
    if (e instanceof Uint8Array) {
      w.buf.set(e, w.pos);
      w.pos += e.length;
    } else {
      for (const [no, bytes] of e.fields) {
        writeDelimitedHeader(w, no, bytes.length);
        w.buf.set(bytes, w.pos);
        w.pos += bytes.length;
      }
    }
  }
  return w.buf;
}

// ---------------------------------------------------------------------------------------------------
// Action

export type ActionType =
  | "download"
  | "upload"
  | "run"
  | "timeout"
  | "emit_progress"
  | "try"
  | "parallel"
  | "serial"
  | "codependent";

export type ActionValue =
  | { type: "download"; value: DownloadAction }
  | { type: "upload"; value: UploadAction }
  | { type: "run"; value: RunAction }
  | { type: "timeout"; value: TimeoutAction }
  | { type: "emit_progress"; value: EmitProgressAction }
  | { type: "try"; value: TryAction }
  | { type: "parallel"; value: ParallelAction }
  | { type: "serial"; value: SerialAction }
  | { type: "codependent"; value: CodependentAction };

/**
 * The action's value as the original's `Action.GetValue` picks it: the first member present in field
 * order (Action is nine independent optional fields, not a real oneof — wire §3.7). Undefined for an
 * empty Action (or none).
 */
export function actionValue(action: Action | undefined | null): ActionValue | undefined {
  if (!action) return undefined;
  if (action.downloadAction) return { type: "download", value: action.downloadAction };
  if (action.uploadAction) return { type: "upload", value: action.uploadAction };
  if (action.runAction) return { type: "run", value: action.runAction };
  if (action.timeoutAction) return { type: "timeout", value: action.timeoutAction };
  if (action.emitProgressAction) return { type: "emit_progress", value: action.emitProgressAction };
  if (action.tryAction) return { type: "try", value: action.tryAction };
  if (action.parallelAction) return { type: "parallel", value: action.parallelAction };
  if (action.serialAction) return { type: "serial", value: action.serialAction };
  if (action.codependentAction) return { type: "codependent", value: action.codependentAction };
  return undefined;
}
