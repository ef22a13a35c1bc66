import { evacuateRunningActualLRP, evacuationResponse } from "../../core/evacuation";
import type { ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo } from "../../core/gen/models/actual_lrp_pb";
import { EvacuateRunningActualLRPRequestSchema, EvacuationResponseSchema } from "../../core/gen/models/evacuation_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("EvacuateRunningActualLRP", { request: EvacuateRunningActualLRPRequestSchema, response: EvacuationResponseSchema }, async (request, ctx) => {
  const { actualLrpKey, actualLrpInstanceKey, actualLrpNetInfo, ttl } = request;
  const result = await evacuateRunningActualLRP(ctx, actualLrpKey as ActualLRPKey, actualLrpInstanceKey as ActualLRPInstanceKey, actualLrpNetInfo as ActualLRPNetInfo, ttl);
  return evacuationResponse(result);
});
