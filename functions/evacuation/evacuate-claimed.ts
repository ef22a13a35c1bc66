import { evacuateClaimedActualLRP, evacuationResponse } from "../../core/evacuation";
import type { ActualLRPInstanceKey, ActualLRPKey } from "../../core/gen/models/actual_lrp_pb";
import { EvacuateClaimedActualLRPRequestSchema, EvacuationResponseSchema } from "../../core/gen/models/evacuation_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "EvacuateClaimedActualLRP",
  { request: EvacuateClaimedActualLRPRequestSchema, response: EvacuationResponseSchema },
  async (request, ctx) =>
    evacuationResponse(await evacuateClaimedActualLRP(ctx, request.actualLrpKey as ActualLRPKey, request.actualLrpInstanceKey as ActualLRPInstanceKey)),
);
