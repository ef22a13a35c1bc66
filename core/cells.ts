// Cell presence, in place of consul: a node per cell with a TTL the rep keeps refreshing. A cell is
// present exactly while its node has not expired.
import { CellPresenceSchema, type CellPresence } from "./gen/models/cell_presence_pb";
import type { BBSContext } from "./context";
import { deserializeJSONError, unknownError } from "./models/errors";
import { decodeRecord, encodeRecord } from "./records";
import { bbsErrorFromStore } from "./store-errors";
import { CellRoot, cellPresenceKey } from "./store/keys";

export async function upsertCellPresence(ctx: BBSContext, presence: CellPresence, ttlSeconds: number): Promise<void> {
  try {
    await ctx.store.set(cellPresenceKey(presence.cellId), encodeRecord(CellPresenceSchema, presence), {
      ttlSeconds,
      labels: { cell_id: presence.cellId },
    });
  } catch (error) {
    throw unknownError(error);
  }
}

export async function listCells(ctx: BBSContext): Promise<CellPresence[]> {
  let nodes;
  try {
    nodes = await ctx.store.list(CellRoot, { recursive: true });
  } catch (error) {
    throw unknownError(error);
  }
  return nodes.flatMap((node) => {
    try {
      return [decodeRecord(CellPresenceSchema, node.value)];
    } catch (error) {
      ctx.logger.error("failed-to-decode-cell-presence", error, { key: node.key });
      return [];
    }
  });
}

/** The cell's presence, or ResourceNotFound when no live node exists for it. */
export async function cellById(ctx: BBSContext, cellId: string): Promise<CellPresence> {
  let node;
  try {
    node = await ctx.store.get(cellPresenceKey(cellId));
  } catch (error) {
    throw bbsErrorFromStore(error);
  }
  try {
    return decodeRecord(CellPresenceSchema, node.value);
  } catch (error) {
    // Not "not found": treating a corrupt presence as a lost cell would delete its instances.
    ctx.logger.error("failed-to-decode-cell-presence", error, { cell_id: cellId });
    throw deserializeJSONError();
  }
}
