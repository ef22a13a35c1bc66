import { listCells } from "../../core/cells";
import { CellsResponseSchema } from "../../core/gen/models/cell_presence_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("Cells", { request: undefined, response: CellsResponseSchema }, async (_request, ctx) => ({
  cells: await listCells(ctx),
}));
