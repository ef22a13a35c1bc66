import { listActualLRPGroupsByProcessGuid } from "../../core/actual-lrps";
import { ActualLRPGroupsByProcessGuidRequestSchema, ActualLRPGroupsResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "ActualLRPGroupsByProcessGuid",
  { request: ActualLRPGroupsByProcessGuidRequestSchema, response: ActualLRPGroupsResponseSchema },
  async (request, ctx) => ({ actualLrpGroups: await listActualLRPGroupsByProcessGuid(ctx, request.processGuid) }),
);
