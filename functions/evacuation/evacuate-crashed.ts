import { evacuateCrashedActualLRP, evacuationResponse } from "../../core/evacuation";
import type { ActualLRPInstanceKey, ActualLRPKey } from "../../core/gen/models/actual_lrp_pb";
import { EvacuateCrashedActualLRPRequestSchema, EvacuationResponseSchema } from "../../core/gen/models/evacuation_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("EvacuateCrashedActualLRP", { request: EvacuateCrashedActualLRPRequestSchema, response: EvacuationResponseSchema }, async (request, ctx) =>
  evacuationResponse(
    await evacuateCrashedActualLRP(ctx, request.actualLrpKey as ActualLRPKey, request.actualLrpInstanceKey as ActualLRPInstanceKey, request.errorMessage),
  ),
);
