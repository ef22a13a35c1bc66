import { retireActualLRP } from "../../core/actual-lrps";
import { ActualLRPLifecycleResponseSchema, RetireActualLRPRequestSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import type { ActualLRPKey } from "../../core/gen/models/actual_lrp_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("RetireActualLRP", { request: RetireActualLRPRequestSchema, response: ActualLRPLifecycleResponseSchema }, (request, ctx) => {
  const { processGuid, index } = request.actualLrpKey as ActualLRPKey;
  return retireActualLRP(ctx, processGuid, index);
});
