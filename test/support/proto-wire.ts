// A deliberately tiny protobuf writer/reader, independent of the server's generated codec, so the
// end-to-end tests speak the wire by field number the way the Go client's bytes do.
const te = new TextEncoder();
const td = new TextDecoder();

function varint(value: bigint): number[] {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

const tag = (field: number, wire: number) => varint(BigInt((field << 3) | wire));

export type Part = Uint8Array;

export const pb = {
  varint: (field: number, value: number | bigint | boolean): Part =>
    Uint8Array.from([...tag(field, 0), ...varint(typeof value === "boolean" ? (value ? 1n : 0n) : BigInt(value))]),
  bytes: (field: number, value: Uint8Array): Part => Uint8Array.from([...tag(field, 2), ...varint(BigInt(value.length)), ...value]),
  string: (field: number, value: string): Part => pb.bytes(field, te.encode(value)),
  message: (field: number, ...parts: Part[]): Part => pb.bytes(field, concat(...parts)),
};

export function concat(...parts: Part[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export type Field = { wire: 0; value: bigint } | { wire: 2; value: Uint8Array } | { wire: 1 | 5; value: Uint8Array };

export function readFields(bytes: Uint8Array): Map<number, Field[]> {
  const fields = new Map<number, Field[]>();
  let i = 0;
  const readVarint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[i++];
      if (b === undefined) throw new Error("truncated varint");
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < bytes.length) {
    const key = Number(readVarint());
    const field = key >> 3;
    const wire = key & 7;
    let entry: Field;
    if (wire === 0) entry = { wire: 0, value: readVarint() };
    else if (wire === 2) {
      const len = Number(readVarint());
      entry = { wire: 2, value: bytes.subarray(i, i + len) };
      i += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      entry = { wire, value: bytes.subarray(i, i + len) };
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), entry]);
  }
  return fields;
}

export const first = (fields: Map<number, Field[]>, n: number) => fields.get(n)?.[0];
export const all = (fields: Map<number, Field[]>, n: number) => fields.get(n) ?? [];
export const str = (f: Field | undefined) => (f && f.wire === 2 ? td.decode(f.value) : undefined);
export const num = (f: Field | undefined) => (f && f.wire === 0 ? f.value : undefined);
export const sub = (f: Field | undefined) => (f && f.wire === 2 ? readFields(f.value) : new Map<number, Field[]>());
export const int32 = (f: Field | undefined) => (f && f.wire === 0 ? Number(BigInt.asIntN(32, f.value)) : undefined);

/** The BBS error in field 1 of any response message, or undefined on success. */
export function errorOf(body: Uint8Array): { type: string; message: string } | undefined {
  const f = first(readFields(body), 1);
  if (!f) return undefined;
  const e = sub(f);
  return { type: str(first(e, 1)) ?? "", message: str(first(e, 2)) ?? "" };
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
export const fromHex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
