import { removeEvacuatingActualLRP } from "../../core/evacuation";
import type { ActualLRPInstanceKey, ActualLRPKey } from "../../core/gen/models/actual_lrp_pb";
import { RemoveEvacuatingActualLRPRequestSchema, RemoveEvacuatingActualLRPResponseSchema } from "../../core/gen/models/evacuation_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler(
  "RemoveEvacuatingActualLRP",
  { request: RemoveEvacuatingActualLRPRequestSchema, response: RemoveEvacuatingActualLRPResponseSchema },
  (request, ctx) => removeEvacuatingActualLRP(ctx, request.actualLrpKey as ActualLRPKey, request.actualLrpInstanceKey as ActualLRPInstanceKey),
);
