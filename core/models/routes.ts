// DesiredLRP.routes / DesiredLRPUpdate.routes (wire §3.8): `bytes` holding a serialized ProtoRoutes
// message (`map<string, bytes> routes = 1`) whose values are the raw JSON text of each router's
// config — the original's `Routes` is `map[string]*json.RawMessage`.

import { compareUtf8, DecodeError, utf8Length, Writer, writeRouteEntry } from "./codec";

/** Router name (e.g. "cf-router") -> raw JSON text of its config. */
export type Routes = Record<string, string>;

const decoder = new TextDecoder("utf-8");
const encoder = new TextEncoder();

/** Parses the bytes of a `routes` field. Throws DecodeError if they are not a ProtoRoutes message. */
export function decodeRoutes(bytes: Uint8Array): Routes {
  const routes: Routes = {};
  let pos = 0;
  const end = bytes.length;

  const varint = (limit: number): number => {
    let result = 0;
    let mul = 1;
    let b: number;
    do {
      if (pos >= limit) throw new DecodeError("unexpected EOF");
      b = bytes[pos++]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return result;
  };
  const skip = (wireType: number, limit: number, depth: number): void => {
    switch (wireType) {
      case 0:
        varint(limit);
        return;
      case 1:
        pos += 8;
        break;
      case 2:
        pos += varint(limit);
        break;
      case 3:
        if (depth > 100) throw new DecodeError("proto: nesting too deep");
        for (;;) {
          const t = varint(limit);
          if (t % 8 === 4) return;
          skip(t % 8, limit, depth + 1);
        }
      case 4:
        return;
      case 5:
        pos += 4;
        break;
      default:
        throw new DecodeError(`proto: illegal wireType ${wireType}`);
    }
    if (pos > limit) throw new DecodeError("unexpected EOF");
  };

  while (pos < end) {
    const tag = varint(end);
    const no = Math.floor(tag / 8);
    const wt = tag % 8;
    if (no !== 1) {
      skip(wt, end, 0);
      continue;
    }
    if (wt !== 2) throw new DecodeError(`proto: wrong wireType = ${wt} for field Routes`);
    const len = varint(end);
    if (len > end - pos) throw new DecodeError("unexpected EOF");
    const entryEnd = pos + len;
    let key = "";
    let value = "";
    while (pos < entryEnd) {
      const t = varint(entryEnd);
      const n = Math.floor(t / 8);
      const w = t % 8;
      if (n === 1 || n === 2) {
        if (w !== 2) throw new DecodeError(`proto: wrong wireType = ${w} for field Routes`);
        const l = varint(entryEnd);
        if (l > entryEnd - pos) throw new DecodeError("unexpected EOF");
        const s = decoder.decode(bytes.subarray(pos, pos + l));
        if (n === 1) key = s;
        else value = s;
        pos += l;
      } else {
        skip(w, entryEnd, 0);
      }
    }
    if (key === "__proto__") Object.defineProperty(routes, key, { value, enumerable: true, writable: true, configurable: true });
    else routes[key] = value;
  }
  return routes;
}

/** Serializes routes as the original does: one entry per key, sorted by key, key and value always written. */
export function encodeRoutes(routes: Routes): Uint8Array {
  const keys = Object.keys(routes).sort(compareUtf8);
  const w = new Writer(64);
  for (const k of keys) writeRouteEntry(w, k, encoder.encode(routes[k]!));
  return w.finish();
}

/** Sum of the byte lengths of all route values (what the original checks against 4096). */
export function routesByteLength(routes: Routes): number {
  let n = 0;
  for (const v of Object.values(routes)) n += utf8Length(v);
  return n;
}
