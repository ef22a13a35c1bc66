import { listActualLRPGroups } from "../../core/actual-lrps";
import { ActualLRPGroupsRequestSchema, ActualLRPGroupsResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "ActualLRPGroups",
  { request: ActualLRPGroupsRequestSchema, response: ActualLRPGroupsResponseSchema },
  async (request, ctx) => ({ actualLrpGroups: await listActualLRPGroups(ctx, { domain: request.domain, cellId: request.cellId }) }),
);
