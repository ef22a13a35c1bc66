import { listDesiredLRPs } from "../../core/desired-lrps";
import { DesiredLRPsRequestSchema, DesiredLRPsResponseSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("DesiredLRPs", { request: DesiredLRPsRequestSchema, response: DesiredLRPsResponseSchema }, async (request, ctx) => ({
  desiredLrps: await listDesiredLRPs(ctx, { domain: request.domain }),
}));
