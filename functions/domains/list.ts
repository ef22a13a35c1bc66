import { listDomains } from "../../core/domains";
import { DomainsResponseSchema } from "../../core/gen/models/domain_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("Domains", { request: undefined, response: DomainsResponseSchema }, async (_request, ctx) => ({
  domains: await listDomains(ctx),
}));
