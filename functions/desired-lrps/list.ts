import { desiredLRPList } from "../../core/desired-lrps";
import { DesiredLRPsRequestSchema, DesiredLRPsResponseSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import { encodeListResponse } from "../../core/models/codec";
import { bbsHandler, encodedResponse } from "../_shared/bbs-handler";

// The stored records go into the protobuf response as they are (core/records.ts, listedRecord).
export const handler = bbsHandler("DesiredLRPs", { request: DesiredLRPsRequestSchema, response: DesiredLRPsResponseSchema }, async (request, ctx) => {
  const list = await desiredLRPList(ctx, { domain: request.domain });
  return encodedResponse(
    (allocate) => encodeListResponse(DesiredLRPsResponseSchema, "desiredLrps", list.encoded(), allocate),
    () => ({ desiredLrps: list.lrps() }),
  );
});
