import { updateDesiredLRP } from "../../core/desired-lrps";
import { DesiredLRPLifecycleResponseSchema, UpdateDesiredLRPRequestSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import type { DesiredLRPUpdate } from "../../core/gen/models/desired_lrp_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("UpdateDesireLRP", { request: UpdateDesiredLRPRequestSchema, response: DesiredLRPLifecycleResponseSchema }, (request, ctx) =>
  updateDesiredLRP(ctx, request.processGuid, request.update as DesiredLRPUpdate),
);
