import { claimActualLRP } from "../../core/actual-lrp-lifecycle";
import { ActualLRPLifecycleResponseSchema, ClaimActualLRPRequestSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import type { ActualLRPInstanceKey } from "../../core/gen/models/actual_lrp_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("ClaimActualLRP", { request: ClaimActualLRPRequestSchema, response: ActualLRPLifecycleResponseSchema }, (request, ctx) =>
  claimActualLRP(ctx, request.processGuid, request.index, request.actualLrpInstanceKey as ActualLRPInstanceKey),
);
