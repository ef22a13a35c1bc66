import { actualLRPGroupByProcessGuidAndIndex } from "../../core/actual-lrps";
import { ActualLRPGroupByProcessGuidAndIndexRequestSchema, ActualLRPGroupResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "ActualLRPGroupsByProcessGuidAndIndex",
  { request: ActualLRPGroupByProcessGuidAndIndexRequestSchema, response: ActualLRPGroupResponseSchema },
  async (request, ctx) => ({ actualLrpGroup: await actualLRPGroupByProcessGuidAndIndex(ctx, request.processGuid, request.index) }),
);
