import { failActualLRP } from "../../core/actual-lrp-lifecycle";
import { ActualLRPLifecycleResponseSchema, FailActualLRPRequestSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import type { ActualLRPKey } from "../../core/gen/models/actual_lrp_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("FailActualLRP", { request: FailActualLRPRequestSchema, response: ActualLRPLifecycleResponseSchema }, (request, ctx) =>
  failActualLRP(ctx, request.actualLrpKey as ActualLRPKey, request.errorMessage),
);
