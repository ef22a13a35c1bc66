// The HTTP API: one function per route-table entry (generated from core/routes.ts, not listed here),
// a $default route for 404/405, and AWS IAM authorisation on every route. With BBS_MTLS_DOMAIN and
// BBS_MTLS_TRUSTSTORE_URI set at deploy time, the API is served on that custom domain with mutual TLS
// instead, as the BBS itself did, and the execute-api endpoint is switched off (infra/DEPLOYING.md).
import { routes } from "../core/routes";
import { apiFunctions, fallbackFunction } from "./api-routes";
import { functionArgs } from "./functions";

const mtls =
  process.env.BBS_MTLS_DOMAIN && process.env.BBS_MTLS_TRUSTSTORE_URI
    ? { domain: process.env.BBS_MTLS_DOMAIN, truststoreUri: process.env.BBS_MTLS_TRUSTSTORE_URI }
    : undefined;

export const api = new sst.aws.ApiGatewayV2("Api", {
  // The BBS serves programs, not browsers.
  cors: false,
  domain: mtls?.domain,
  transform: {
    route: {
      // Every route requires a SigV4-signed request, unless mutual TLS authenticates the caller.
      args: (props) => {
        if (!mtls) props.auth ??= { iam: true };
      },
    },
    ...(mtls && {
      domainName: (args) => {
        args.mutualTlsAuthentication = { truststoreUri: mtls.truststoreUri };
      },
      // Otherwise the default endpoint would let callers around the certificate check.
      api: (args) => {
        args.disableExecuteApiEndpoint = true;
      },
    }),
  },
});

/**
 * HTTP API integrations time out at 30 s; the function stops just before, so the caller gets the
 * function's answer (or Lambda's timeout) rather than API Gateway's 503.
 */
const RouteTimeout = "29 seconds";

export const routeFunctions = [...apiFunctions(routes), fallbackFunction].map((fn) => {
  const lambda = new sst.aws.Function(fn.id, functionArgs(fn, { timeout: RouteTimeout }));
  // Payload format 2.0 passes binary (protobuf) bodies through base64-encoded with isBase64Encoded,
  // and decodes base64 responses: nothing to configure, unlike REST APIs' binaryMediaTypes. A GET
  // route's HEAD shares its function.
  for (const key of fn.routeKeys) api.route(key, lambda.arn);
  return lambda;
});
