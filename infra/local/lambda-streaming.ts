// Lambda response streaming without Lambda: the `awslambda` globals a streaming handler uses
// (`streamifyResponse`, `HttpResponseStream.from`), and a server for streaming routes that invokes
// the very handler the function URL would, writing its stream straight to the HTTP response.
//
// The globals are MERGED into any existing `globalThis.awslambda`: the AWS SDK (via
// @aws/lambda-invoke-store) creates that object with its own members, and replacing it — or skipping
// it because it exists — would lose one side. Importing this module installs them; handler modules
// call `awslambda.streamifyResponse` when they load, so import this before loading one.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Writable } from "node:stream";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { RouteSpec } from "../../core/routes";
import { apiGatewayEvent, lambdaContext } from "./api-gateway-event";
import { loadHandler, type StreamingRouteServer } from "./http-server";

interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<unknown>;

const StreamingHandlerMark = Symbol.for("bbs.local.streamifyResponse");

/** What the runtime hands a streaming handler: the HTTP response, as a Writable with backpressure. */
export class LocalResponseStream extends Writable {
  private started = false;
  private contentType = "application/octet-stream";

  constructor(private readonly res: ServerResponse) {
    super();
    res.on("close", () => {
      if (!this.writableFinished) this.destroy();
    });
  }

  /** HttpResponseStream.from: status and headers, sent (and flushed) at once, as the runtime's prelude is. */
  setPrelude(prelude: Prelude): void {
    if (this.started) return;
    this.started = true;
    const headers: Record<string, string | string[]> = { ...(prelude.headers ?? {}) };
    if (prelude.cookies?.length) headers["Set-Cookie"] = prelude.cookies;
    this.res.writeHead(prelude.statusCode ?? 200, headers);
    this.res.flushHeaders();
  }

  setContentType(contentType: string): void {
    this.contentType = contentType;
  }

  private ensureStarted(): void {
    if (!this.started) this.setPrelude({ statusCode: 200, headers: { "Content-Type": this.contentType } });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.ensureStarted();
    if (this.res.write(chunk)) callback();
    else this.res.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.ensureStarted();
    this.res.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.res.writableEnded) this.res.destroy();
    callback(error);
  }
}

class HttpResponseStream {
  static from(stream: Writable, prelude: Prelude): Writable {
    if (stream instanceof LocalResponseStream) stream.setPrelude(prelude);
    return stream;
  }
}

function streamifyResponse<T extends (...args: never[]) => unknown>(handler: T): T {
  Object.defineProperty(handler, StreamingHandlerMark, { value: true });
  return handler;
}

const holder = globalThis as unknown as { awslambda?: Record<string, unknown> };
holder.awslambda = Object.assign(holder.awslambda ?? {}, { streamifyResponse, HttpResponseStream });

function isStreamingHandler(fn: unknown): fn is StreamingHandler {
  return typeof fn === "function" && (fn as unknown as Record<symbol, unknown>)[StreamingHandlerMark] === true;
}

/** Serves streaming routes (GET /v1/events) by invoking their handler as a function URL would. */
export function localStreamingServer(options: { onError?: (error: unknown) => void } = {}): StreamingRouteServer {
  return async (route: RouteSpec, req: IncomingMessage, res: ServerResponse) => {
    const handler: unknown = await loadHandler(route.handler);
    if (!isStreamingHandler(handler)) throw new Error(`${route.handler} is not wrapped in awslambda.streamifyResponse`);
    req.resume(); // the event stream takes no body
    // A function URL's event: payload format 2.0 with routeKey $default.
    const event: APIGatewayProxyEventV2 = apiGatewayEvent(req, Buffer.alloc(0), "$default");
    const stream = new LocalResponseStream(res);
    stream.on("error", () => {}); // a client that leaves mid-write is not an error of the handler
    try {
      await handler(event, stream, lambdaContext(route.handler, 15 * 60 * 1000));
      if (!stream.writableEnded && !stream.destroyed) stream.end();
    } catch (error) {
      options.onError?.(error);
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" }).end('{"message":"Internal Server Error"}');
      else res.destroy();
    }
  };
}
