import { actualLRPGroupListByProcessGuid } from "../../core/actual-lrps";
import { ActualLRPGroupsByProcessGuidRequestSchema, ActualLRPGroupsResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { encodeListResponse } from "../../core/models/codec";
import { bbsHandler, encodedResponse } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "ActualLRPGroupsByProcessGuid",
  { request: ActualLRPGroupsByProcessGuidRequestSchema, response: ActualLRPGroupsResponseSchema },
  async (request, ctx) => {
    const list = await actualLRPGroupListByProcessGuid(ctx, request.processGuid);
    return encodedResponse(
      (allocate) => encodeListResponse(ActualLRPGroupsResponseSchema, "actualLrpGroups", list.encoded(), allocate),
      () => ({ actualLrpGroups: list.groups() }),
    );
  },
);
