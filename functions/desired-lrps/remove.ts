import { removeDesiredLRP } from "../../core/desired-lrps";
import { DesiredLRPLifecycleResponseSchema, RemoveDesiredLRPRequestSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("RemoveDesiredLRP", { request: RemoveDesiredLRPRequestSchema, response: DesiredLRPLifecycleResponseSchema }, (request, ctx) =>
  removeDesiredLRP(ctx, request.processGuid),
);
