import { desireLRP } from "../../core/desired-lrps";
import { DesireLRPRequestSchema, DesiredLRPLifecycleResponseSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import type { DesiredLRP } from "../../core/gen/models/desired_lrp_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("DesireDesiredLRP", { request: DesireLRPRequestSchema, response: DesiredLRPLifecycleResponseSchema }, (request, ctx) =>
  desireLRP(ctx, request.desiredLrp as DesiredLRP),
);
