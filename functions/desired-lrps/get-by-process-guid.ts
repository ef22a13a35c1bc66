import { desiredLRPByProcessGuid } from "../../core/desired-lrps";
import { DesiredLRPByProcessGuidRequestSchema, DesiredLRPResponseSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "DesiredLRPByProcessGuid",
  { request: DesiredLRPByProcessGuidRequestSchema, response: DesiredLRPResponseSchema },
  async (request, ctx) => ({ desiredLrp: await desiredLRPByProcessGuid(ctx, request.processGuid) }),
);
