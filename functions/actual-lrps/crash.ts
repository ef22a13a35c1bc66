import { crashActualLRP } from "../../core/actual-lrp-lifecycle";
import { ActualLRPLifecycleResponseSchema, CrashActualLRPRequestSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import type { ActualLRPInstanceKey, ActualLRPKey } from "../../core/gen/models/actual_lrp_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("CrashActualLRP", { request: CrashActualLRPRequestSchema, response: ActualLRPLifecycleResponseSchema }, (request, ctx) =>
  crashActualLRP(ctx, request.actualLrpKey as ActualLRPKey, request.actualLrpInstanceKey as ActualLRPInstanceKey, request.errorMessage),
);
