import { convergeLRPs } from "../../core/convergence/lrp-convergence";
import { ConvergeLRPsResponseSchema } from "../../core/gen/models/lrp_convergence_request_pb";
import { bbsHandler } from "../_shared/bbs-handler";

// Synchronous, as in the original. Unlike it, a pass that could not read the store answers
// UnknownError (the original answered nothing either way), so the caller knows it did not happen.
export const handler = bbsHandler("ConvergeLRPs", { request: undefined, response: ConvergeLRPsResponseSchema }, async (_request, ctx) => {
  await convergeLRPs(ctx);
});
