// A node:http server in front of the route table: each request becomes the API Gateway event its
// Lambda would get, and the result is written back as API Gateway would write it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { matchRoute, type RouteSpec } from "../../core/routes";
import { apiGatewayEvent, lambdaContext } from "./api-gateway-event";

type HttpHandler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
/** Serves a streaming route (the event stream): the handler writes to the response itself. */
export type StreamingRouteServer = (route: RouteSpec, req: IncomingMessage, res: ServerResponse) => Promise<void>;

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const loaded = new Map<string, Promise<HttpHandler>>();

/** `functions/x/y.handler` → the module's export, loaded once, as a Lambda would at cold start. */
export function loadHandler(spec: string): Promise<HttpHandler> {
  let found = loaded.get(spec);
  if (!found) {
    const dot = spec.lastIndexOf(".");
    const file = join(repositoryRoot, `${spec.slice(0, dot)}.ts`);
    const name = spec.slice(dot + 1);
    found = import(file).then((mod: Record<string, HttpHandler>) => {
      const fn = mod[name];
      if (typeof fn !== "function") throw new Error(`${file} exports no ${name}`);
      return fn;
    });
    loaded.set(spec, found);
  }
  return found;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? "too-large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2, head: boolean) {
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  const headers: Record<string, string | number> = { ...(result.headers as Record<string, string>), "Content-Length": body.length };
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(head ? undefined : body);
}

export interface LocalServerOptions {
  host: string;
  port: number;
  /** Bodies beyond this are cut off (API Gateway's own limit is 10 MB); the handler enforces the BBS limit. */
  transportLimitBytes?: number;
  streaming?: StreamingRouteServer;
  onError?: (error: unknown) => void;
}

export async function startHttpServer(options: LocalServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const method = req.method ?? "GET";
      const match = matchRoute(method, path);
      if (match.kind === "route" && match.route.streaming) {
        if (!options.streaming) throw new Error(`no streaming server for ${match.route.name}`);
        await options.streaming(match.route, req, res);
        return;
      }
      const body = await readBody(req, options.transportLimitBytes ?? 10 * 1024 * 1024);
      if (body === "too-large") {
        res.writeHead(413, { "Content-Type": "text/plain" }).end("Request Entity Too Large\n");
        return;
      }
      const spec = match.kind === "route" ? match.route.handler : "functions/fallback.handler";
      const routeKey = match.kind === "route" ? `${match.route.method} ${match.route.path}` : "$default";
      const handler = await loadHandler(spec);
      const event = apiGatewayEvent(req, body, routeKey);
      const result = await handler(event, lambdaContext(spec));
      writeResult(res, result, method === "HEAD");
    } catch (error) {
      options.onError?.(error);
      // What API Gateway answers when the integration itself fails.
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end('{"message":"Internal Server Error"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    server,
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
