import { removeActualLRP } from "../../core/actual-lrp-lifecycle";
import { ActualLRPLifecycleResponseSchema, RemoveActualLRPRequestSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("RemoveActualLRP", { request: RemoveActualLRPRequestSchema, response: ActualLRPLifecycleResponseSchema }, (request, ctx) =>
  removeActualLRP(ctx, request.processGuid, request.index),
);
