import { upsertDomain } from "../../core/domains";
import { UpsertDomainRequestSchema, UpsertDomainResponseSchema } from "../../core/gen/models/domain_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("UpsertDomain", { request: UpsertDomainRequestSchema, response: UpsertDomainResponseSchema }, (request, ctx) =>
  upsertDomain(ctx, request.domain, request.ttl),
);
