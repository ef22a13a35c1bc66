// Serves what no BBS route matches, as the original router did: 404 for an unknown path, 405 with
// Allow for a known path and another method. On AWS it is the HTTP API's $default route.
import type { HttpEvent, HttpResult } from "./_shared/http";
import { requestIdOf, textResult } from "./_shared/http";
import { matchRoute } from "../core/routes";

export const handler = async (event: HttpEvent): Promise<HttpResult> => {
  const match = matchRoute(event.requestContext.http.method, event.rawPath);
  const requestId = requestIdOf(event);
  if (match.kind === "method-not-allowed") return textResult(405, "Method Not Allowed\n", requestId, { Allow: match.allow.join(", ") });
  return textResult(404, "404 page not found\n", requestId);
};
