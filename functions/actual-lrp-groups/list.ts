import { actualLRPGroupList } from "../../core/actual-lrps";
import { ActualLRPGroupsRequestSchema, ActualLRPGroupsResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { encodeListResponse } from "../../core/models/codec";
import { bbsHandler, encodedResponse } from "../_shared/bbs-handler";

// The stored records go into the protobuf response as they are (core/records.ts, listedRecord).
export const handler = bbsHandler("ActualLRPGroups", { request: ActualLRPGroupsRequestSchema, response: ActualLRPGroupsResponseSchema }, async (request, ctx) => {
  const list = await actualLRPGroupList(ctx, { domain: request.domain, cellId: request.cellId });
  return encodedResponse(
    (allocate) => encodeListResponse(ActualLRPGroupsResponseSchema, "actualLrpGroups", list.encoded(), allocate),
    () => ({ actualLrpGroups: list.groups() }),
  );
});
