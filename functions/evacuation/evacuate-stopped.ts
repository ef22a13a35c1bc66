import { evacuateStoppedActualLRP, evacuationResponse } from "../../core/evacuation";
import type { ActualLRPInstanceKey, ActualLRPKey } from "../../core/gen/models/actual_lrp_pb";
import { EvacuateStoppedActualLRPRequestSchema, EvacuationResponseSchema } from "../../core/gen/models/evacuation_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "EvacuateStoppedActualLRP",
  { request: EvacuateStoppedActualLRPRequestSchema, response: EvacuationResponseSchema },
  async (request, ctx) =>
    evacuationResponse(await evacuateStoppedActualLRP(ctx, request.actualLrpKey as ActualLRPKey, request.actualLrpInstanceKey as ActualLRPInstanceKey)),
);
