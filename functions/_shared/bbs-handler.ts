// One factory for every BBS route: parse (protobuf, or JSON when the caller sends JSON), validate,
// run one core call, respond. Handlers never pick status codes: every outcome is HTTP 200 with the
// BBS error, if any, inside the route's response message.
import middy from "@middy/core";
import type { MiddlewareObj } from "@middy/core";
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { Context } from "aws-lambda";
import type { BBSContext } from "../../core/context";
import { ErrorSchema } from "../../core/gen/models/error_pb";
import { decodeMessage, encodeMessage } from "../../core/models/codec";
import { BbsError, ErrorType, badRequest, invalidRequest, unknownError } from "../../core/models/errors";
import { decodeGoJSON, encodeGoJSON } from "../../core/models/go-json";
import { requestValidators, validationMessage } from "../../core/models/validation";
import { routeNamed, type RouteSpec } from "../../core/routes";
import { bbsContext } from "./dependencies";
import { acceptsGzip, bodyBytes, bodyLength, jsonResult, protobufResult, requestIdOf, wantsJSON, type Encoding, type HttpEvent, type HttpResult } from "./http";

interface BBSRequestState {
  requestId: string;
  json: boolean;
  encoding: Encoding;
}

const encoded = Symbol("bbs-encoded-response");

/** Returns `size` bytes to write a response body into. */
export type Allocate = (size: number) => Uint8Array;

/**
 * A response a route built from stored bytes (a list of records carried as they are stored): the
 * protobuf body as is, written into the bytes `allocate` gives, and the message itself only when the
 * caller asked for JSON.
 */
export interface EncodedResponse<Res extends DescMessage> {
  readonly [encoded]: true;
  protobuf(allocate: Allocate): Uint8Array;
  message(): MessageInitShape<Res>;
}

export function encodedResponse<Res extends DescMessage>(protobuf: (allocate: Allocate) => Uint8Array, message: () => MessageInitShape<Res>): EncodedResponse<Res> {
  return { [encoded]: true, protobuf, message };
}

// List responses run to tens of megabytes, and the first write to freshly allocated memory costs
// about 4 ms a megabyte on Firecracker VMs (Lambda's, and this project's test machine): more than
// the copy itself. So a list body is written into one buffer this process keeps and reuses. That is
// safe only because the body is base64-encoded into the result in the same synchronous step, before
// any other request of this process can run (see the handler below).
let listBody = new Uint8Array(0);
const reusedListBody: Allocate = (size) => {
  if (size > listBody.length) listBody = new Uint8Array(Math.max(size, Math.floor(listBody.length * 1.25)));
  return listBody.subarray(0, size);
};

function isEncoded(result: unknown): result is EncodedResponse<DescMessage> {
  return typeof result === "object" && result !== null && encoded in result;
}

type Run<Req extends DescMessage | undefined, Res extends DescMessage> = (
  request: Req extends DescMessage ? MessageShape<Req> : undefined,
  ctx: BBSContext,
) => Promise<MessageInitShape<Res> | EncodedResponse<Res> | void>;

const state = new WeakMap<object, BBSRequestState>();

function respond(route: RouteSpec, schema: DescMessage, message: MessageInitShape<DescMessage>, st: BBSRequestState): HttpResult {
  const full = create(schema, message);
  return st.json ? jsonResult(encodeGoJSON(schema, full), st.requestId, st.encoding) : protobufResult(encodeMessage(schema, full), st.requestId, st.encoding);
}

function errorResponse(route: RouteSpec, error: BbsError, st: BBSRequestState): HttpResult {
  const response = route.response as DescMessage;
  return respond(route, response, { error: create(ErrorSchema, { type: error.type, message: error.message }) } as never, st);
}

/**
 * A body larger than the platform can return (a Lambda: 6 MB) would reach the caller as a bare 502
 * from API Gateway; this says what happened, in the route's response, instead.
 */
function withinResponseLimit(route: RouteSpec, response: HttpResult, st: BBSRequestState, maxBytes: number | undefined): HttpResult {
  if (maxBytes === undefined) return response;
  const body = response.body ?? "";
  // Base64 travels as it is; text is escaped once more inside the result's JSON (at most 6 bytes a character).
  const size = response.isBase64Encoded || body.length * 6 <= maxBytes ? body.length : Buffer.byteLength(JSON.stringify(body));
  if (size <= maxBytes) return response;
  const hint = st.encoding.gzip ? "narrow the request (a domain filter)" : "ask with Accept-Encoding: gzip, or narrow the request (a domain filter)";
  const message = `the response is ${size} bytes, more than the ${maxBytes} this deployment can return: ${hint}`;
  bbsContext().ctx.logger.error("response-too-large", undefined, { request_id: st.requestId, route: route.name, bytes: size, limit: maxBytes });
  return errorResponse(route, new BbsError(ErrorType.UnknownError, message), st);
}

function parseRequest(route: RouteSpec, event: HttpEvent, json: boolean, maxBytes: number): unknown {
  if (!route.request) return undefined;
  if (bodyLength(event) > maxBytes) throw invalidRequest(`the request body exceeds the limit of ${maxBytes} bytes`);
  const bytes = bodyBytes(event);
  let request: MessageShape<DescMessage>;
  try {
    request = json ? decodeGoJSON(route.request, bytes.length === 0 ? "{}" : Buffer.from(bytes).toString("utf8")) : decodeMessage(route.request, bytes);
  } catch {
    throw badRequest();
  }
  const problems = requestValidators[route.request.typeName]?.(request as never) ?? [];
  if (problems.length > 0) throw invalidRequest(validationMessage(problems));
  return request;
}

/** Maps whatever escaped the route to its response: BBS errors as they are, anything else as UnknownError. */
const bbsErrors = (route: RouteSpec): MiddlewareObj<HttpEvent, HttpResult> => ({
  onError: async (request) => {
    const st = state.get(request.event) ?? { requestId: requestIdOf(request.event), json: false, encoding: { gzip: false } };
    let error = request.error;
    if (!(error instanceof BbsError)) {
      bbsContext().ctx.logger.error("request-failed", error, { request_id: st.requestId, route: route.name });
      error = unknownError(error);
    }
    request.response = errorResponse(route, error as BbsError, st);
  },
});

export function bbsHandler<Req extends DescMessage | undefined, Res extends DescMessage>(
  routeName: string,
  schemas: { request: Req; response: Res },
  run: Run<Req, Res>,
) {
  const route = routeNamed(routeName);
  if (route.request?.typeName !== schemas.request?.typeName || route.response?.typeName !== schemas.response.typeName) {
    throw new Error(`handler for ${routeName} does not use the route's messages`);
  }
  return middy<HttpEvent, HttpResult, Error, Context>()
    .use(bbsErrors(route))
    .handler(async (event) => {
      const st: BBSRequestState = { requestId: requestIdOf(event), json: wantsJSON(event), encoding: { gzip: acceptsGzip(event) } };
      state.set(event, st);
      const { ctx, config } = bbsContext();
      const request = parseRequest(route, event, st.json, config.maxRequestBytes);
      const result = await run(request as never, ctx);
      let response: HttpResult;
      if (isEncoded(result)) {
        // One expression: the reused body is encoded into the result before anything else runs.
        response = st.json ? respond(route, schemas.response, result.message() as never, st) : protobufResult(result.protobuf(reusedListBody), st.requestId, st.encoding);
      } else {
        response = respond(route, schemas.response, (result ?? {}) as never, st);
      }
      return withinResponseLimit(route, response, st, config.maxResponseBytes);
    });
}
