// The Go-tag JSON codec (wire §4 "JSON" column, §10): what the original's encoding/json makes of its
// gogoproto structs — its etcd record format, the auctioneer payloads and the task completion callback.
//
// Go rules reproduced here:
//  * names from the struct tags (DesiredLRP/TaskDefinition `rootfs` and `env`, Action members
//    `download`, `run`, …), fields in struct order;
//  * ActualLRP flattens its embedded key / instance key / net info; Task flattens its (pointer)
//    TaskDefinition, whose fields are absent when it is nil;
//  * `omitempty` drops zero scalars, empty slices and nil pointers; slices without it are `null` when
//    empty (ActualLRP `ports`, DesiredLRP `env`); pointer scalars (ResourceLimits.nofile,
//    DesiredLRPUpdate.instances/annotation) are written whenever set, zero included;
//  * `routes` is an object of raw JSON values (Go `map[string]*json.RawMessage`): keys sorted, values
//    validated and compacted like encoding/json does with RawMessage (invalid value -> GoJSONError);
//    a present-but-empty `routes` is `null`, as Go writes a non-nil pointer to a nil map;
//  * enums are written by name (Task.state `"Pending"`), unknown values as numbers; read from either;
//  * 64-bit integers are plain JSON numbers, kept exact as bigint both ways (no JSON.parse);
//  * strings escaped like Go (`<`, `>`, `&`, U+2028/9 as \u escapes, invalid UTF-16 as \ufffd);
//  * reading: keys match exactly or case-insensitively, unknown keys are skipped, `null` leaves value
//    fields alone and clears pointers, type mismatches and out-of-range numbers are errors.
// Decoded messages have the canonical form of codec.ts (every Go value field set).

import { create, ScalarType } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { DesiredLRPSchema } from "../gen/models/desired_lrp_pb";
import type { DesiredLRP } from "../gen/models/desired_lrp_pb";
import { TaskSchema } from "../gen/models/task_pb";
import type { Task } from "../gen/models/task_pb";
import { TaskCallbackResponseSchema } from "../gen/models/task_requests_pb";
import type { TaskCallbackResponse } from "../gen/models/task_requests_pb";
import { compareUtf8, fillValueFields, goTraits, newMessage, planFor } from "./codec";
import { decodeRoutes, encodeRoutes } from "./routes";
import type { Routes } from "./routes";

/** Invalid JSON, a value of the wrong type, or (encoding) a route value that is not valid JSON. */
export class GoJSONError extends Error {
  override name = "GoJSONError";
}

// ---------------------------------------------------------------------------------------------------
// Go struct tags that differ from the default rules below.
// Defaults: JSON name = proto field name; scalars are always written; message pointers, slices and
// maps are `omitempty`.

const JSON_NAMES: Record<string, string> = {
  "models.DesiredLRP.root_fs": "rootfs",
  "models.DesiredLRP.environment_variables": "env",
  "models.TaskDefinition.root_fs": "rootfs",
  "models.TaskDefinition.environment_variables": "env",
  "models.Action.download_action": "download",
  "models.Action.upload_action": "upload",
  "models.Action.run_action": "run",
  "models.Action.timeout_action": "timeout",
  "models.Action.emit_progress_action": "emit_progress",
  "models.Action.try_action": "try",
  "models.Action.parallel_action": "parallel",
  "models.Action.serial_action": "serial",
  "models.Action.codependent_action": "codependent",
};

/** Value scalars tagged `omitempty`. */
const OMITEMPTY_SCALARS = new Set([
  "models.SecurityGroupRule.protocol",
  "models.DownloadAction.artifact",
  "models.DownloadAction.log_source",
  "models.UploadAction.artifact",
  "models.UploadAction.log_source",
  "models.RunAction.dir",
  "models.RunAction.log_source",
  "models.TimeoutAction.log_source",
  "models.EmitProgressAction.log_source",
  "models.TryAction.log_source",
  "models.ParallelAction.log_source",
  "models.SerialAction.log_source",
  "models.CodependentAction.log_source",
  "models.ActualLRP.crash_reason",
  "models.ActualLRP.placement_error",
  "models.TaskDefinition.completion_callback_url",
  "models.TaskDefinition.annotation",
  "models.TaskCallbackResponse.annotation",
]);

/** Slices and pointers without `omitempty`: `null` when empty / nil. */
const NULL_WHEN_EMPTY = new Set([
  "models.ActualLRPNetInfo.ports",
  "models.DesiredLRP.environment_variables",
  "models.DesireTaskRequest.task_definition",
]);

/** Anonymous (embedded) struct fields, whose fields are promoted into the parent's object. */
const EMBEDDED = new Set([
  "models.ActualLRP.actual_lrp_key",
  "models.ActualLRP.actual_lrp_instance_key",
  "models.ActualLRP.actual_lrp_net_info",
  "models.Task.task_definition",
]);

// ---------------------------------------------------------------------------------------------------
// Plans

const S_SCALAR = 0;
const S_ENUM = 1;
const S_MESSAGE = 2;
const S_LIST = 3;
const S_MAP = 4;
const S_ROUTES = 5;

const E_ALWAYS = 0; // always written (zero value / zero object / null)
const E_OMIT_ZERO = 1; // omitempty on a value: zero / empty omitted
const E_OMIT_UNSET = 2; // pointer with omitempty: omitted when unset
const E_EMBEDDED = 3; // flattened into the parent

type AnyMessage = Record<string, any>;

interface JField {
  readonly desc: DescField;
  readonly name: string; // property
  readonly key: string; // JSON key
  readonly prefix: string; // `"key":`
  readonly shape: number;
  readonly scalar: ScalarType; // S_SCALAR, and element / value scalar of lists and maps (0 if none)
  readonly elemKind: number; // lists / maps: S_SCALAR | S_ENUM | S_MESSAGE
  readonly mapKey: ScalarType;
  readonly emit: number;
  readonly nullWhenEmpty: boolean;
  readonly nullable: boolean; // decoding `null` clears the field
  readonly valueMessage: boolean; // a message Go holds by value (always present)
  readonly enumDesc: DescEnum | undefined;
  readonly enumNames: Map<number, string> | undefined;
  readonly enumValues: Map<string, number> | undefined;
  readonly goType: string;
  msg: JPlan | undefined;
}

interface Binding {
  readonly field: JField;
  readonly via: JField | undefined; // embedded field holding `field`
}

interface JPlan {
  readonly desc: DescMessage;
  readonly wire: ReturnType<typeof planFor>; // the codec's plan (value fields to fill)
  readonly fields: JField[];
  readonly keys: Map<string, Binding>;
  readonly foldedKeys: Map<string, Binding>;
  readonly embedded: JField[];
  readonly goType: string;
}

const jplans = new Map<DescMessage, JPlan>();

function jplanFor(desc: DescMessage): JPlan {
  let plan = jplans.get(desc);
  if (plan) return plan;
  const fields: JField[] = [];
  plan = {
    desc,
    wire: planFor(desc),
    fields,
    keys: new Map(),
    foldedKeys: new Map(),
    embedded: [],
    goType: goTypeName(desc),
  };
  jplans.set(desc, plan);
  for (const f of [...desc.fields].sort((a, b) => a.number - b.number)) fields.push(jfield(f));
  for (const f of fields) {
    if (f.emit === E_EMBEDDED) plan.embedded.push(f);
    else plan.keys.set(f.key, { field: f, via: undefined });
  }
  // promoted fields of embedded structs, unless a shallower field has the name
  for (const e of plan.embedded) {
    for (const sub of e.msg!.fields) {
      if (sub.emit === E_EMBEDDED) throw new Error(`go-json: nested embedding not supported (${e.desc.parent.typeName})`);
      if (!plan.keys.has(sub.key)) plan.keys.set(sub.key, { field: sub, via: e });
    }
  }
  for (const [k, b] of plan.keys) {
    const folded = k.toLowerCase();
    if (!plan.foldedKeys.has(folded)) plan.foldedKeys.set(folded, b);
  }
  return plan;
}

/** Go's name for a generated type: models.Task.State -> models.Task_State. */
function goTypeName(desc: { typeName: string }): string {
  const dot = desc.typeName.indexOf(".");
  return desc.typeName.slice(0, dot + 1) + desc.typeName.slice(dot + 1).replaceAll(".", "_");
}

function jfield(f: DescField): JField {
  const q = `${f.parent.typeName}.${f.name}`;
  const key = JSON_NAMES[q] ?? f.name;
  let shape: number;
  let scalar = 0 as ScalarType;
  let elemKind = S_SCALAR;
  let mapKey = ScalarType.STRING;
  let enumDesc: DescEnum | undefined;
  let sub: DescMessage | undefined;
  let emit: number;
  let nullable = false;
  switch (f.fieldKind) {
    case "scalar":
      scalar = f.scalar;
      if (goTraits.isRoutes(f)) {
        shape = S_ROUTES;
        emit = E_OMIT_UNSET;
        nullable = true;
      } else {
        shape = S_SCALAR;
        nullable = goTraits.isNullableScalar(f) || f.scalar === ScalarType.BYTES;
        emit = nullable ? E_OMIT_UNSET : OMITEMPTY_SCALARS.has(q) ? E_OMIT_ZERO : E_ALWAYS;
      }
      break;
    case "enum":
      shape = S_ENUM;
      enumDesc = f.enum;
      nullable = goTraits.isNullableScalar(f);
      emit = nullable ? E_OMIT_UNSET : OMITEMPTY_SCALARS.has(q) ? E_OMIT_ZERO : E_ALWAYS;
      break;
    case "message":
      shape = S_MESSAGE;
      sub = f.message;
      if (EMBEDDED.has(q)) emit = E_EMBEDDED;
      else if (goTraits.isValueMessage(f)) emit = E_ALWAYS;
      else if (NULL_WHEN_EMPTY.has(q)) emit = E_ALWAYS;
      else emit = E_OMIT_UNSET;
      nullable = !goTraits.isValueMessage(f);
      break;
    case "list":
      shape = S_LIST;
      emit = NULL_WHEN_EMPTY.has(q) ? E_ALWAYS : E_OMIT_ZERO;
      nullable = true;
      if (f.listKind === "scalar") scalar = f.scalar;
      else if (f.listKind === "enum") {
        elemKind = S_ENUM;
        enumDesc = f.enum;
      } else {
        elemKind = S_MESSAGE;
        sub = f.message;
      }
      break;
    case "map":
      shape = S_MAP;
      emit = E_OMIT_ZERO;
      nullable = true;
      mapKey = f.mapKey;
      if (f.mapKind === "scalar") scalar = f.scalar;
      else if (f.mapKind === "enum") {
        elemKind = S_ENUM;
        enumDesc = f.enum;
      } else {
        elemKind = S_MESSAGE;
        sub = f.message;
      }
      break;
  }
  const jf: JField = {
    desc: f,
    name: f.localName,
    key,
    prefix: quote(key) + ":",
    shape,
    scalar,
    elemKind,
    mapKey,
    emit,
    nullWhenEmpty: NULL_WHEN_EMPTY.has(q),
    nullable,
    valueMessage: f.fieldKind === "message" && goTraits.isValueMessage(f),
    enumDesc,
    enumNames: enumDesc ? new Map(enumDesc.values.map((v) => [v.number, v.name])) : undefined,
    enumValues: enumDesc ? new Map(enumDesc.values.map((v) => [v.name, v.number])) : undefined,
    goType: "",
    msg: undefined,
  };
  (jf as { goType: string }).goType = fieldGoType(jf, sub);
  if (sub) jf.msg = jplanFor(sub);
  return jf;
}

function fieldGoType(f: JField, sub: DescMessage | undefined): string {
  const elem =
    f.shape === S_ENUM || f.elemKind === S_ENUM
      ? goTypeName(f.enumDesc!)
      : sub
        ? "*" + goTypeName(sub)
        : scalarGoType(f.scalar);
  switch (f.shape) {
    case S_LIST:
      return "[]" + elem;
    case S_MAP:
      return `map[${scalarGoType(f.mapKey)}]${elem}`;
    case S_ROUTES:
      return "models.Routes";
    default:
      return elem;
  }
}

function scalarGoType(t: ScalarType): string {
  switch (t) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BOOL:
      return "bool";
    case ScalarType.BYTES:
      return "[]uint8";
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return "int32";
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return "uint32";
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return "int64";
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return "uint64";
    case ScalarType.FLOAT:
      return "float32";
    case ScalarType.DOUBLE:
      return "float64";
  }
  return "?";
}

const hasOwn = Object.prototype.hasOwnProperty;

// ---------------------------------------------------------------------------------------------------
// Encoding

let out = "";

/** The Go-tag JSON of a message (compact, as encoding/json writes it). */
export function encodeGoJSON<Desc extends DescMessage>(schema: Desc, msg: MessageShape<Desc>): string {
  out = "";
  writeObject(jplanFor(schema), msg as AnyMessage);
  const s = out;
  out = "";
  return s;
}

function writeObject(plan: JPlan, msg: AnyMessage): void {
  out += "{";
  writeMembers(plan, msg, true);
  out += "}";
}

function writeMembers(plan: JPlan, msg: AnyMessage, first: boolean): boolean {
  const fields = plan.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const v = msg[f.name];
    switch (f.shape) {
      case S_SCALAR:
      case S_ENUM: {
        if (f.emit === E_OMIT_UNSET) {
          if (v === undefined || v === null || !hasOwn.call(msg, f.name)) continue;
        } else if (f.emit === E_OMIT_ZERO && isZeroScalar(v)) continue;
        out += first ? f.prefix : "," + f.prefix;
        first = false;
        if (f.shape === S_ENUM) writeEnum(f, v ?? 0);
        else writeScalar(f.scalar, v ?? scalarZero(f.scalar));
        break;
      }
      case S_MESSAGE: {
        if (f.emit === E_EMBEDDED) {
          const sub = (v as AnyMessage | undefined) ?? (f.valueMessage ? zeroOf(f.msg!) : undefined);
          if (sub !== undefined && sub !== null) first = writeMembers(f.msg!, sub, first);
          continue;
        }
        if ((v === undefined || v === null) && f.emit === E_OMIT_UNSET) continue;
        out += first ? f.prefix : "," + f.prefix;
        first = false;
        if (v !== undefined && v !== null) writeObject(f.msg!, v as AnyMessage);
        else if (f.nullWhenEmpty) out += "null";
        else writeObject(f.msg!, zeroOf(f.msg!));
        break;
      }
      case S_LIST: {
        const list = v as unknown[] | undefined;
        const empty = !list || list.length === 0;
        if (empty && f.emit === E_OMIT_ZERO) continue;
        out += first ? f.prefix : "," + f.prefix;
        first = false;
        if (empty) out += "null";
        else writeList(f, list);
        break;
      }
      case S_MAP: {
        const map = v as Record<string, unknown> | undefined;
        const keys = map ? Object.keys(map) : [];
        if (keys.length === 0 && f.emit === E_OMIT_ZERO) continue;
        out += first ? f.prefix : "," + f.prefix;
        first = false;
        writeMap(f, map ?? {}, keys);
        break;
      }
      case S_ROUTES: {
        if (v === undefined || v === null || !hasOwn.call(msg, f.name)) continue;
        out += first ? f.prefix : "," + f.prefix;
        first = false;
        writeRoutes(v as Uint8Array);
        break;
      }
    }
  }
  return first;
}

const zeros = new Map<JPlan, AnyMessage>();
function zeroOf(plan: JPlan): AnyMessage {
  let z = zeros.get(plan);
  if (!z) zeros.set(plan, (z = newMessage(plan.wire)));
  return z;
}

function isZeroScalar(v: unknown): boolean {
  return v === undefined || v === null || v === "" || v === 0 || v === false || v === 0n || (v instanceof Uint8Array && v.length === 0);
}

function scalarZero(t: ScalarType): unknown {
  switch (t) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return new Uint8Array(0);
    default:
      return 0;
  }
}

function writeScalar(t: ScalarType, v: unknown): void {
  switch (t) {
    case ScalarType.STRING:
      out += quote(v as string);
      return;
    case ScalarType.BOOL:
      out += v ? "true" : "false";
      return;
    case ScalarType.BYTES:
      out += '"' + Buffer.from(v as Uint8Array).toString("base64") + '"';
      return;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE: {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new GoJSONError(`json: unsupported value: ${n}`);
      out += String(n);
      return;
    }
    default:
      // integers: number or bigint, written exactly
      out += typeof v === "bigint" ? v.toString() : String(Math.trunc(Number(v)));
  }
}

function writeEnum(f: JField, v: unknown): void {
  const name = f.enumNames!.get(Number(v));
  out += name !== undefined ? quote(name) : String(Number(v));
}

function writeList(f: JField, list: unknown[]): void {
  out += "[";
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out += ",";
    const e = list[i];
    if (f.elemKind === S_MESSAGE) {
      if (e === undefined || e === null) out += "null";
      else writeObject(f.msg!, e as AnyMessage);
    } else if (f.elemKind === S_ENUM) writeEnum(f, e);
    else writeScalar(f.scalar, e);
  }
  out += "]";
}

function writeMap(f: JField, map: Record<string, unknown>, keys: string[]): void {
  // encoding/json sorts map keys by their string form
  keys.sort(compareUtf8);
  out += "{";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ",";
    out += quote(k) + ":";
    const e = map[k];
    if (f.elemKind === S_MESSAGE) {
      if (e === undefined || e === null) out += "null";
      else writeObject(f.msg!, e as AnyMessage);
    } else if (f.elemKind === S_ENUM) writeEnum(f, e);
    else writeScalar(f.scalar, e);
  }
  out += "}";
}

function writeRoutes(bytes: Uint8Array): void {
  let routes: Routes;
  try {
    routes = decodeRoutes(bytes);
  } catch (e) {
    throw new GoJSONError(`json: error calling MarshalJSON for type *models.Routes: ${(e as Error).message}`, { cause: e });
  }
  const keys = Object.keys(routes);
  if (keys.length === 0) {
    out += "null"; // Go: non-nil *Routes holding a nil map
    return;
  }
  keys.sort(compareUtf8);
  out += "{";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ",";
    out += quote(k) + ":" + compactRawJSON(routes[k]!);
  }
  out += "}";
}

// Go's encodeState.string with HTML escaping (encoding/json as of 2015).
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;
const HEX = "0123456789abcdef";

/** A JSON string literal for `s`, escaped exactly as Go's encoding/json does. */
export function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let r = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) {
      esc = c === 0x0a ? "\\n" : c === 0x0d ? "\\r" : c === 0x09 ? "\\t" : "\\u00" + HEX[c >> 4] + HEX[c & 0xf];
    } else if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = "\\\\";
    else if (c === 0x2028 || c === 0x2029) esc = "\\u202" + HEX[c & 0xf];
    else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        i++; // a valid pair: written as is
        continue;
      }
      esc = "\\ufffd";
    }
    if (esc !== undefined) {
      r += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return r + s.slice(start) + '"';
}

const MAYBE_NOT_COMPACT = /[\s<>&\u2028\u2029]/;

/**
 * What encoding/json writes for a json.RawMessage: the value validated (GoJSONError if invalid),
 * insignificant whitespace removed and `<`, `>`, `&`, U+2028, U+2029 escaped.
 */
export function compactRawJSON(text: string): string {
  begin(text);
  try {
    ws();
    skipValue(0);
    ws();
    if (pos < src.length) throw syntaxError("after top-level value");
  } catch (e) {
    if (e instanceof GoJSONError) {
      throw new GoJSONError(`json: error calling MarshalJSON for type *json.RawMessage: ${e.message}`, { cause: e });
    }
    throw e;
  } finally {
    end();
  }
  if (!MAYBE_NOT_COMPACT.test(text)) return text;
  let r = "";
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let esc: string | undefined;
    if (inString) {
      if (c === 0x5c) {
        i++; // skip the escaped character (validated above)
        continue;
      }
      if (c === 0x22) inString = false;
      else if (c === 0x3c || c === 0x3e || c === 0x26) esc = "\\u00" + HEX[c >> 4] + HEX[c & 0xf];
      else if (c === 0x2028 || c === 0x2029) esc = "\\u202" + HEX[c & 0xf];
    } else if (c === 0x22) inString = true;
    else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) esc = "";
    if (esc !== undefined) {
      r += text.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return r + text.slice(start);
}

// ---------------------------------------------------------------------------------------------------
// Decoding: a schema-directed recursive-descent parser; integer literals are converted exactly.

let src = "";
let pos = 0;
const MAX_DEPTH = 200;

function begin(text: string): void {
  src = text;
  pos = 0;
}

function end(): void {
  src = "";
}

/** Decodes Go-tag JSON into a message of `schema`; throws GoJSONError on invalid input. */
export function decodeGoJSON<Desc extends DescMessage>(schema: Desc, text: string): MessageShape<Desc> {
  begin(text);
  try {
    ws();
    const plan = jplanFor(schema);
    const msg = readMessageValue(plan, undefined, 0);
    topLevelEnd();
    return (msg ?? newMessage(plan.wire)) as MessageShape<Desc>;
  } finally {
    end();
  }
}

function topLevelEnd(): void {
  ws();
  if (pos < src.length) throw syntaxError("after top-level value");
}

function ws(): void {
  const s = src;
  let p = pos;
  for (;;) {
    const c = s.charCodeAt(p);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
    else break;
  }
  pos = p;
}

function describeChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  if (c < 0x20) return `'\\x${HEX[c >> 4]}${HEX[c & 0xf]}'`;
  return `'${String.fromCharCode(c)}'`;
}

function syntaxError(context: string): GoJSONError {
  if (pos >= src.length) return new GoJSONError("unexpected end of JSON input");
  return new GoJSONError(`invalid character ${describeChar(src.charCodeAt(pos))} ${context}`);
}

function typeError(what: string, goType: string): GoJSONError {
  return new GoJSONError(`json: cannot unmarshal ${what} into Go value of type ${goType}`);
}

/** The JSON kind of the value starting at pos (for type errors), after skipping it. */
function skipAndDescribe(depth: number): string {
  const c = src.charCodeAt(pos);
  const what = c === 0x22 ? "string" : c === 0x7b ? "object" : c === 0x5b ? "array" : c === 0x74 || c === 0x66 ? "bool" : "number";
  skipValue(depth);
  return what;
}

function literal(word: string): boolean {
  if (src.startsWith(word, pos)) {
    pos += word.length;
    return true;
  }
  // report the first differing character like Go's scanner
  for (let i = 0; i < word.length; i++) {
    if (src.charCodeAt(pos + i) !== word.charCodeAt(i)) {
      pos += i;
      throw syntaxError(`in literal ${word} (expecting '${word[i]}')`);
    }
  }
  return false;
}

function isNullAhead(): boolean {
  if (src.charCodeAt(pos) !== 0x6e) return false;
  literal("null");
  return true;
}

function readString(): string {
  const s = src;
  if (s.charCodeAt(pos) !== 0x22) throw syntaxError("looking for beginning of value");
  const start = ++pos;
  let p = start;
  for (;;) {
    if (p >= s.length) {
      pos = p;
      throw syntaxError("in string literal");
    }
    const c = s.charCodeAt(p);
    if (c === 0x22) {
      pos = p + 1;
      return s.slice(start, p);
    }
    if (c === 0x5c) break;
    if (c < 0x20) {
      pos = p;
      throw syntaxError("in string literal");
    }
    p++;
  }
  // slow path: escapes
  let r = s.slice(start, p);
  for (;;) {
    if (p >= s.length) {
      pos = p;
      throw syntaxError("in string literal");
    }
    const c = s.charCodeAt(p);
    if (c === 0x22) {
      pos = p + 1;
      return r;
    }
    if (c < 0x20) {
      pos = p;
      throw syntaxError("in string literal");
    }
    if (c !== 0x5c) {
      r += s[p];
      p++;
      continue;
    }
    const e = s.charCodeAt(p + 1);
    p += 2;
    switch (e) {
      case 0x22:
        r += '"';
        break;
      case 0x5c:
        r += "\\";
        break;
      case 0x2f:
        r += "/";
        break;
      case 0x62:
        r += "\b";
        break;
      case 0x66:
        r += "\f";
        break;
      case 0x6e:
        r += "\n";
        break;
      case 0x72:
        r += "\r";
        break;
      case 0x74:
        r += "\t";
        break;
      case 0x75: {
        const u = hex4(p);
        p += 4;
        if (u >= 0xd800 && u <= 0xdbff) {
          // a high surrogate must be followed by an escaped low surrogate, else U+FFFD (as Go does)
          if (s.charCodeAt(p) === 0x5c && s.charCodeAt(p + 1) === 0x75) {
            const l = hex4(p + 2);
            if (l >= 0xdc00 && l <= 0xdfff) {
              r += String.fromCharCode(u, l);
              p += 6;
              break;
            }
          }
          r += "\ufffd";
        } else if (u >= 0xdc00 && u <= 0xdfff) r += "\ufffd";
        else r += String.fromCharCode(u);
        break;
      }
      default:
        pos = p - 1;
        throw syntaxError("in string escape code");
    }
  }
}

function hex4(p: number): number {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = src.charCodeAt(p + i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else {
      pos = p + i;
      throw syntaxError("in \\u hexadecimal character escape");
    }
    v = v * 16 + d;
  }
  return v;
}

/** Scans a JSON number at pos; returns its text. `isInt` tells whether it has no fraction/exponent. */
let numberIsInt = true;
function readNumberText(): string {
  const s = src;
  const start = pos;
  let p = pos;
  numberIsInt = true;
  if (s.charCodeAt(p) === 0x2d) p++;
  const first = s.charCodeAt(p);
  if (first === 0x30) p++;
  else if (first >= 0x31 && first <= 0x39) {
    p++;
    while (isDigit(s.charCodeAt(p))) p++;
  } else {
    pos = p;
    throw syntaxError(p === start ? "looking for beginning of value" : "in numeric literal");
  }
  if (s.charCodeAt(p) === 0x2e) {
    numberIsInt = false;
    p++;
    if (!isDigit(s.charCodeAt(p))) {
      pos = p;
      throw syntaxError("after decimal point in numeric literal");
    }
    while (isDigit(s.charCodeAt(p))) p++;
  }
  const e = s.charCodeAt(p);
  if (e === 0x65 || e === 0x45) {
    numberIsInt = false;
    p++;
    const sign = s.charCodeAt(p);
    if (sign === 0x2b || sign === 0x2d) p++;
    if (!isDigit(s.charCodeAt(p))) {
      pos = p;
      throw syntaxError("in exponent of numeric literal");
    }
    while (isDigit(s.charCodeAt(p))) p++;
  }
  pos = p;
  return s.slice(start, p);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Skips (and validates) one JSON value at pos. */
function skipValue(depth: number): void {
  if (depth > MAX_DEPTH) throw new GoJSONError("exceeded max depth");
  const c = src.charCodeAt(pos);
  switch (c) {
    case 0x22:
      readString();
      return;
    case 0x7b:
      if (objectOpen()) {
        do {
          objectKey();
          skipValue(depth + 1);
        } while (objectMore());
      }
      return;
    case 0x5b:
      if (arrayOpen()) {
        do skipValue(depth + 1);
        while (arrayMore());
      }
      return;
    case 0x74:
      literal("true");
      return;
    case 0x66:
      literal("false");
      return;
    case 0x6e:
      literal("null");
      return;
    default:
      readNumberText();
  }
}

// Object / array iteration without callbacks:
//   if (objectOpen()) do { const key = objectKey(); <consume value> } while (objectMore());
//   if (arrayOpen()) do { <consume element> } while (arrayMore());

/** At `{`: consumes it; false (and `}` consumed) for an empty object. */
function objectOpen(): boolean {
  if (src.charCodeAt(pos) !== 0x7b) throw syntaxError("looking for beginning of value");
  pos++;
  ws();
  if (src.charCodeAt(pos) === 0x7d) {
    pos++;
    return false;
  }
  return true;
}

/** Reads `"key":`, leaving pos at the value. */
function objectKey(): string {
  ws();
  if (src.charCodeAt(pos) !== 0x22) throw syntaxError("looking for beginning of object key string");
  const key = readString();
  ws();
  if (src.charCodeAt(pos) !== 0x3a) throw syntaxError("after object key");
  pos++;
  ws();
  return key;
}

/** After a member's value: true if another member follows, false at (and past) `}`. */
function objectMore(): boolean {
  ws();
  const d = src.charCodeAt(pos);
  if (d === 0x2c) {
    pos++;
    return true;
  }
  if (d === 0x7d) {
    pos++;
    return false;
  }
  throw syntaxError("after object key:value pair");
}

/** At `[`: consumes it, leaving pos at the first element; false (and `]` consumed) if empty. */
function arrayOpen(): boolean {
  if (src.charCodeAt(pos) !== 0x5b) throw syntaxError("looking for beginning of value");
  pos++;
  ws();
  if (src.charCodeAt(pos) === 0x5d) {
    pos++;
    return false;
  }
  return true;
}

/** After an element: true (pos at the next element) if another follows, false at (and past) `]`. */
function arrayMore(): boolean {
  ws();
  const d = src.charCodeAt(pos);
  if (d === 0x2c) {
    pos++;
    ws();
    return true;
  }
  if (d === 0x5d) {
    pos++;
    return false;
  }
  throw syntaxError("after array element");
}

/**
 * Reads an object (or null) into `into` (or a new canonical message). Returns undefined for null
 * when there is nothing to merge into.
 */
function readMessageValue(plan: JPlan, into: AnyMessage | undefined, depth: number): AnyMessage | undefined {
  if (depth > MAX_DEPTH) throw new GoJSONError("exceeded max depth");
  if (isNullAhead()) return into;
  const c = src.charCodeAt(pos);
  if (c !== 0x7b) {
    if (c === 0x22 || c === 0x5b || c === 0x74 || c === 0x66 || c === 0x2d || isDigit(c)) {
      throw typeError(skipAndDescribe(depth), plan.goType);
    }
    throw syntaxError("looking for beginning of value");
  }
  const msg = into ?? (create(plan.desc) as AnyMessage);
  if (objectOpen()) {
    do {
      const key = objectKey();
      const b = plan.keys.get(key) ?? plan.foldedKeys.get(key.toLowerCase());
      if (b === undefined) {
        skipValue(depth + 1);
        continue;
      }
      let target = msg;
      if (b.via !== undefined) {
        // Go allocates an embedded pointer as soon as one of its promoted fields appears
        const embedded = msg[b.via.name] as AnyMessage | undefined;
        if (embedded === undefined) msg[b.via.name] = target = newMessage(b.via.msg!.wire);
        else target = embedded;
      }
      readField(b.field, target, depth + 1);
    } while (objectMore());
  }
  fillValueFields(plan.wire, msg);
  return msg;
}

function readField(f: JField, msg: AnyMessage, depth: number): void {
  if (src.charCodeAt(pos) === 0x6e) {
    literal("null");
    // null: no-op for Go value fields, clears pointers, slices and maps
    if (f.nullable) {
      if (f.shape === S_LIST) msg[f.name] = [];
      else if (f.shape === S_MAP) msg[f.name] = {};
      else delete msg[f.name];
    }
    return;
  }
  switch (f.shape) {
    case S_SCALAR:
      msg[f.name] = readScalar(f.scalar, f.goType, depth);
      return;
    case S_ENUM:
      msg[f.name] = readEnum(f, depth);
      return;
    case S_MESSAGE:
      msg[f.name] = readMessageValue(f.msg!, msg[f.name] as AnyMessage | undefined, depth);
      return;
    case S_LIST: {
      if (src.charCodeAt(pos) !== 0x5b) throw typeErrorHere(f.goType, depth);
      const list: unknown[] = [];
      if (arrayOpen()) {
        do {
          if (f.elemKind === S_MESSAGE) {
            list.push(readMessageValue(f.msg!, undefined, depth + 1) ?? newMessage(f.msg!.wire));
          } else if (isNullAhead()) {
            list.push(f.elemKind === S_ENUM ? 0 : scalarZero(f.scalar));
          } else if (f.elemKind === S_ENUM) list.push(readEnum(f, depth + 1));
          else list.push(readScalar(f.scalar, f.goType.slice(2), depth + 1));
        } while (arrayMore());
      }
      msg[f.name] = list;
      return;
    }
    case S_MAP: {
      if (src.charCodeAt(pos) !== 0x7b) throw typeErrorHere(f.goType, depth);
      const map: Record<string, unknown> = {};
      if (objectOpen()) {
        do {
          const key = objectKey();
          let v: unknown;
          if (f.elemKind === S_MESSAGE) v = readMessageValue(f.msg!, undefined, depth + 1) ?? newMessage(f.msg!.wire);
          else if (isNullAhead()) v = f.elemKind === S_ENUM ? 0 : scalarZero(f.scalar);
          else if (f.elemKind === S_ENUM) v = readEnum(f, depth + 1);
          else v = readScalar(f.scalar, scalarGoType(f.scalar), depth + 1);
          setOwn(map, mapKeyOf(f.mapKey, key), v);
        } while (objectMore());
      }
      msg[f.name] = map;
      return;
    }
    case S_ROUTES: {
      if (src.charCodeAt(pos) !== 0x7b) throw typeErrorHere(f.goType, depth);
      const routes: Routes = {};
      if (objectOpen()) {
        do {
          const key = objectKey();
          const start = pos;
          skipValue(depth + 1);
          setOwn(routes, key, src.slice(start, pos));
        } while (objectMore());
      }
      msg[f.name] = encodeRoutes(routes);
      return;
    }
  }
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function mapKeyOf(t: ScalarType, key: string): string {
  if (t === ScalarType.STRING) return key;
  if (t === ScalarType.BOOL) {
    if (key === "true" || key === "false") return key;
  } else if (/^-?\d+$/.test(key)) return BigInt(key).toString();
  throw new GoJSONError(`json: cannot unmarshal number ${key} into Go value of type ${scalarGoType(t)}`);
}

function typeErrorHere(goType: string, depth: number): GoJSONError {
  const c = src.charCodeAt(pos);
  if (c === 0x22 || c === 0x7b || c === 0x5b || c === 0x74 || c === 0x66 || c === 0x2d || isDigit(c)) {
    return typeError(skipAndDescribe(depth), goType);
  }
  return syntaxError("looking for beginning of value");
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;

function readScalar(t: ScalarType, goType: string, depth: number): unknown {
  const c = src.charCodeAt(pos);
  switch (t) {
    case ScalarType.STRING:
      if (c !== 0x22) throw typeErrorHere(goType, depth);
      return readString();
    case ScalarType.BOOL:
      if (c === 0x74) return literal("true");
      if (c === 0x66) return !literal("false");
      throw typeErrorHere(goType, depth);
    case ScalarType.BYTES: {
      if (c !== 0x22) throw typeErrorHere(goType, depth);
      const s = readString();
      if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
        throw new GoJSONError("illegal base64 data at input byte 0");
      }
      return new Uint8Array(Buffer.from(s, "base64"));
    }
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      if (c !== 0x2d && !isDigit(c)) throw typeErrorHere(goType, depth);
      return Number(readNumberText());
  }
  if (c !== 0x2d && !isDigit(c)) throw typeErrorHere(goType, depth);
  const text = readNumberText();
  return integerOf(text, t, goType);
}

function integerOf(text: string, t: ScalarType, goType: string): number | bigint {
  if (!numberIsInt) throw badNumber(text, goType);
  switch (t) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32: {
      const n = Number(text);
      if (n < INT32_MIN || n > INT32_MAX) throw badNumber(text, goType);
      return n;
    }
    case ScalarType.UINT32:
    case ScalarType.FIXED32: {
      const n = Number(text);
      if (n < 0 || n > UINT32_MAX || text.charCodeAt(0) === 0x2d) throw badNumber(text, goType);
      return n;
    }
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64: {
      const n = BigInt(text);
      if (BigInt.asIntN(64, n) !== n) throw badNumber(text, goType);
      return n;
    }
    default: {
      // uint64
      if (text.charCodeAt(0) === 0x2d) throw badNumber(text, goType);
      const n = BigInt(text);
      if (BigInt.asUintN(64, n) !== n) throw badNumber(text, goType);
      return n;
    }
  }
}

function badNumber(text: string, goType: string): GoJSONError {
  return new GoJSONError(`json: cannot unmarshal number ${text} into Go value of type ${goType}`);
}

function readEnum(f: JField, depth: number): number {
  const c = src.charCodeAt(pos);
  const goType = f.goType.replace(/^\[\]/, "");
  if (c === 0x22) {
    const name = readString();
    const v = f.enumValues!.get(name);
    if (v === undefined) throw new GoJSONError(`unrecognized enum ${goType.replace(/^models\./, "")} value ${JSON.stringify(name)}`);
    return v;
  }
  if (c !== 0x2d && !isDigit(c)) throw typeErrorHere(goType, depth);
  return integerOf(readNumberText(), ScalarType.INT32, goType) as number;
}

// ---------------------------------------------------------------------------------------------------
// Generic bigint-exact JSON (tests, recording fakes)

export type ExactJSON = null | boolean | number | bigint | string | ExactJSON[] | { [key: string]: ExactJSON };

/**
 * Parses any JSON text; integer literals become bigint (exact), other numbers become number.
 * Objects keep their key order. Throws GoJSONError on invalid input.
 */
export function parseJSONExact(text: string): ExactJSON {
  begin(text);
  try {
    ws();
    const v = readAny(0);
    topLevelEnd();
    return v;
  } finally {
    end();
  }
}

function readAny(depth: number): ExactJSON {
  if (depth > MAX_DEPTH) throw new GoJSONError("exceeded max depth");
  const c = src.charCodeAt(pos);
  switch (c) {
    case 0x22:
      return readString();
    case 0x7b: {
      const obj: { [key: string]: ExactJSON } = {};
      if (objectOpen()) {
        do {
          const key = objectKey();
          setOwn(obj, key, readAny(depth + 1));
        } while (objectMore());
      }
      return obj;
    }
    case 0x5b: {
      const arr: ExactJSON[] = [];
      if (arrayOpen()) {
        do arr.push(readAny(depth + 1));
        while (arrayMore());
      }
      return arr;
    }
    case 0x74:
      return literal("true");
    case 0x66:
      return !literal("false");
    case 0x6e:
      literal("null");
      return null;
    default: {
      const t = readNumberText();
      return numberIsInt ? BigInt(t) : Number(t);
    }
  }
}

/** The raw source text of each member of a top-level JSON object (in order). */
export function rawJSONMembers(text: string): Map<string, string> {
  begin(text);
  try {
    const members = new Map<string, string>();
    ws();
    if (objectOpen()) {
      do {
        const key = objectKey();
        const start = pos;
        skipValue(1);
        members.set(key, src.slice(start, pos));
      } while (objectMore());
    }
    topLevelEnd();
    return members;
  } finally {
    end();
  }
}

// ---------------------------------------------------------------------------------------------------
// JSON-only payloads (§10)

/** One element of the auctioneer's `POST /v1/lrps` body (Go `models.LRPStartRequest`). */
export interface LRPStartRequest {
  desiredLRP: DesiredLRP | undefined;
  indices: number[];
}

/** `[{"desired_lrp": <DesiredLRP>, "indices": [..]}, ...]` */
export function encodeLRPStartRequests(requests: readonly LRPStartRequest[]): string {
  const plan = jplanFor(DesiredLRPSchema);
  out = "[";
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    out += i > 0 ? ',{"desired_lrp":' : '{"desired_lrp":';
    if (r.desiredLRP) writeObject(plan, r.desiredLRP as AnyMessage);
    else out += "null";
    out += ',"indices":';
    if (r.indices.length === 0) out += "null";
    else {
      out += "[";
      for (let j = 0; j < r.indices.length; j++) {
        const n = r.indices[j]!;
        if (!Number.isSafeInteger(n) || n < 0) throw new GoJSONError(`invalid index ${n}`);
        out += (j > 0 ? "," : "") + String(n);
      }
      out += "]";
    }
    out += "}";
  }
  out += "]";
  const s = out;
  out = "";
  return s;
}

/** A whole text that is one JSON array (or null) of `goType`'s elements, each read by `readElement`. */
function decodeTopLevelArray<T>(text: string, goType: string, readElement: () => T): T[] {
  begin(text);
  try {
    ws();
    const result: T[] = [];
    if (!isNullAhead()) {
      if (src.charCodeAt(pos) !== 0x5b) throw typeErrorHere(goType, 0);
      if (arrayOpen()) {
        do result.push(readElement());
        while (arrayMore());
      }
    }
    topLevelEnd();
    return result;
  } finally {
    end();
  }
}

export function decodeLRPStartRequests(text: string): LRPStartRequest[] {
  const plan = jplanFor(DesiredLRPSchema);
  return decodeTopLevelArray(text, "[]models.LRPStartRequest", () => readLRPStartRequest(plan));
}

function readLRPStartRequest(plan: JPlan): LRPStartRequest {
  const req: LRPStartRequest = { desiredLRP: undefined, indices: [] };
  if (isNullAhead()) return req;
  if (src.charCodeAt(pos) !== 0x7b) throw typeErrorHere("models.LRPStartRequest", 1);
  if (objectOpen()) {
    do {
      const key = objectKey();
      const k = key === "desired_lrp" || key === "indices" ? key : key.toLowerCase();
      if (k === "desired_lrp") {
        req.desiredLRP = readMessageValue(plan, undefined, 2) as DesiredLRP | undefined;
      } else if (k === "indices") {
        req.indices = [];
        if (isNullAhead()) continue;
        if (src.charCodeAt(pos) !== 0x5b) throw typeErrorHere("[]uint", 2);
        if (arrayOpen()) {
          do {
            if (isNullAhead()) req.indices.push(0);
            else req.indices.push(Number(readScalar(ScalarType.UINT64, "uint", 3)));
          } while (arrayMore());
        }
      } else skipValue(2);
    } while (objectMore());
  }
  return req;
}

/** The auctioneer's `POST /v1/tasks` body: a JSON array of Task JSON. */
export function encodeTaskAuctionRequests(tasks: readonly Task[]): string {
  const plan = jplanFor(TaskSchema);
  out = "[";
  for (let i = 0; i < tasks.length; i++) {
    if (i > 0) out += ",";
    writeObject(plan, tasks[i] as AnyMessage);
  }
  out += "]";
  const s = out;
  out = "";
  return s;
}

export function decodeTaskAuctionRequests(text: string): Task[] {
  const plan = jplanFor(TaskSchema);
  return decodeTopLevelArray(text, "[]*models.Task", () => (readMessageValue(plan, undefined, 1) ?? newMessage(plan.wire)) as Task);
}

/**
 * The body POSTed to a task's completion_callback_url: TaskCallbackResponse JSON. Given a Task, it is
 * built as the original does (task_guid, failed, failure_reason, result, annotation).
 */
export function encodeTaskCallback(
  source: Task | TaskCallbackResponse | MessageInitShape<typeof TaskCallbackResponseSchema>,
): string {
  let resp: TaskCallbackResponse;
  if ((source as { $typeName?: string }).$typeName === TaskSchema.typeName) {
    const task = source as Task;
    resp = create(TaskCallbackResponseSchema, {
      taskGuid: task.taskGuid,
      failed: task.failed,
      failureReason: task.failureReason,
      result: task.result,
      annotation: task.taskDefinition?.annotation ?? "",
    });
  } else {
    resp = create(TaskCallbackResponseSchema, source as MessageInitShape<typeof TaskCallbackResponseSchema>);
  }
  return encodeGoJSON(TaskCallbackResponseSchema, resp);
}

export function decodeTaskCallback(text: string): TaskCallbackResponse {
  return decodeGoJSON(TaskCallbackResponseSchema, text);
}
