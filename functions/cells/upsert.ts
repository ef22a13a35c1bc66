import { upsertCellPresence } from "../../core/cells";
import { UpsertCellPresenceRequestSchema, UpsertCellPresenceResponseSchema, type CellPresence } from "../../core/gen/models/cell_presence_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "UpsertCellPresence",
  { request: UpsertCellPresenceRequestSchema, response: UpsertCellPresenceResponseSchema },
  (request, ctx) => upsertCellPresence(ctx, request.cellPresence as CellPresence, request.ttl),
);
