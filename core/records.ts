// How models are stored: one format byte, then the protobuf encoding. Protobuf keeps records small
// and decoding cheap on listing paths; the byte lets a later format (JSON, encrypted) coexist.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { BBSContext } from "./context";
import { decodeMessage, encodeMessage, isCanonicalEncoding } from "./models/codec";
import { BbsError, unknownError } from "./models/errors";
import type { ScanOptions, StoreNode } from "./store/store";

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

/**
 * A stored record on its way into a list response. Listing used to decode every record and encode it
 * again; a record whose stored protobuf is canonical (decoding and re-encoding it gives the same bytes,
 * which holds for everything the BBS writes) now goes into the response as it is stored, and is decoded
 * only if a caller asks for the message (JSON responses, core callers).
 */
export interface ListedRecord<T> {
  /** The record's protobuf encoding, exactly as encodeMessage(message()) would write it. */
  readonly bytes: Uint8Array;
  /** True when `bytes` are the stored bytes themselves (nothing was decoded). */
  readonly canonical: boolean;
  message(): T;
}

/**
 * The record as a list carries it. A record that is not canonical is decoded at once, so an
 * undecodable one throws the RecordDecodeError decodeRecord throws, when the list is built.
 */
export function listedRecord<Desc extends DescMessage>(schema: Desc, stored: Uint8Array): ListedRecord<MessageShape<Desc>> {
  if (stored[0] === PROTOBUF_FORMAT) {
    const body = stored.subarray(1);
    if (isCanonicalEncoding(schema, body)) return new StoredRecord(schema, body);
  }
  return new DecodedRecord(schema, decodeRecord(schema, stored));
}

// Classes rather than closures: a list makes one of these per record.
class StoredRecord<Desc extends DescMessage> implements ListedRecord<MessageShape<Desc>> {
  readonly canonical = true;
  private decoded?: MessageShape<Desc>;
  constructor(
    private readonly schema: Desc,
    readonly bytes: Uint8Array,
  ) {}
  message(): MessageShape<Desc> {
    return (this.decoded ??= decodeMessage(this.schema, this.bytes));
  }
}

class DecodedRecord<Desc extends DescMessage> implements ListedRecord<MessageShape<Desc>> {
  readonly canonical = false;
  readonly bytes: Uint8Array;
  constructor(
    schema: Desc,
    private readonly decoded: MessageShape<Desc>,
  ) {
    this.bytes = encodeMessage(schema, decoded);
  }
  message(): MessageShape<Desc> {
    return this.decoded;
  }
}

/**
 * Reads every node below `prefix` a page at a time (store.forEachNode: the same nodes and DynamoDB
 * calls as a recursive list) and hands each to `visit` as its page arrives, so that nothing but what
 * `visit` keeps outlives its page. A store failure is UnknownError; what `visit` throws passes as is.
 * A caller that filters on no label passes `withoutLabels`: DynamoDB then sends only key, value,
 * version and expiry, which is less JSON to parse per item.
 */
export async function visitNodes(ctx: BBSContext, prefix: string, visit: (node: StoreNode) => void, options: ScanOptions = {}): Promise<void> {
  try {
    await ctx.store.forEachNode(
      prefix,
      (nodes) => {
        for (const node of nodes) visit(node);
      },
      options,
    );
  } catch (error) {
    throw error instanceof BbsError ? error : unknownError(error);
  }
}
