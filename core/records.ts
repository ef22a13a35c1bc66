// How models are stored: one format byte, then the protobuf encoding. Protobuf keeps records small
// and decoding cheap on listing paths; the byte lets a later format (JSON, encrypted) coexist.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { decodeMessage, encodeMessage } from "./models/codec";

const PROTOBUF_FORMAT = 0x02;

export class RecordDecodeError extends Error {
  override name = "RecordDecodeError";
}

export function encodeRecord<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
  const body = encodeMessage(schema, message);
  const out = new Uint8Array(body.length + 1);
  out[0] = PROTOBUF_FORMAT;
  out.set(body, 1);
  return out;
}

export function decodeRecord<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  if (bytes[0] !== PROTOBUF_FORMAT) throw new RecordDecodeError(`unknown record format ${bytes[0] ?? "(empty)"}`);
  try {
    return decodeMessage(schema, bytes.subarray(1));
  } catch (error) {
    throw new RecordDecodeError(`undecodable ${schema.typeName} record`, { cause: error });
  }
}
