import { startActualLRP } from "../../core/actual-lrp-lifecycle";
import { ActualLRPLifecycleResponseSchema, StartActualLRPRequestSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import type { ActualLRPInstanceKey, ActualLRPKey, ActualLRPNetInfo } from "../../core/gen/models/actual_lrp_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("StartActualLRP", { request: StartActualLRPRequestSchema, response: ActualLRPLifecycleResponseSchema }, (request, ctx) =>
  startActualLRP(
    ctx,
    request.actualLrpKey as ActualLRPKey,
    request.actualLrpInstanceKey as ActualLRPInstanceKey,
    request.actualLrpNetInfo as ActualLRPNetInfo,
  ),
);
