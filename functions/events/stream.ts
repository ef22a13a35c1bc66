// GET /v1/events: server-sent BBS events (core/events/EVENTS.md). A response-streaming Lambda behind a
// function URL on AWS (API Gateway would cut it at 30 s), and the same handler behind the local
// server's awslambda shim. Each connection long-polls the event log for at most 15 minutes, then
// ends; clients resume with Last-Event-ID and lose nothing that is still retained.
//
// No middy here: there is no middleware to run, and writing to the response stream directly is what
// lets a slow subscriber be noticed (backpressure) and dropped.
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { EventLog } from "../../core/events/event-log";
import { startingPoint, streamEvents, type StreamStart } from "../../core/events/event-stream";
import { EventStreamHeaders } from "../../core/events/sse";
import { bbsContext } from "../_shared/dependencies";
import { header, requestIdOf } from "../_shared/http";

/** A function URL invocation lasts at most 15 minutes. */
const MaxConnectionMs = 15 * 60 * 1000;
/** End cleanly this long before the function would be stopped. */
const EndBeforeTimeoutMs = 5_000;

export const handler = awslambda.streamifyResponse(
  async (event: APIGatewayProxyEventV2, responseStream: awslambda.HttpResponseStream, context: Context): Promise<void> => {
    const requestId = requestIdOf(event);
    const { ctx } = bbsContext();
    const logger = ctx.logger.with({ request_id: requestId });
    const log = new EventLog(ctx.store, { logger });

    let start: StreamStart;
    try {
      start = await startingPoint(log, header(event, "last-event-id"));
    } catch (error) {
      // As the original answered when it could not subscribe: 500, empty body (clients retry).
      logger.error("failed-to-subscribe-to-events", error);
      awslambda.HttpResponseStream.from(responseStream, { statusCode: 500, headers: { "X-Cf-Requestid": requestId } }).end();
      return;
    }

    const out = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 200,
      headers: { ...EventStreamHeaders, "X-Cf-Requestid": requestId },
    });
    if (event.requestContext.http.method === "HEAD") {
      out.end();
      return;
    }
    logger.info("event-stream-started", { cursor: start.cursor, relist: start.relist !== undefined });
    const maxDurationMs = Math.max(1_000, Math.min(MaxConnectionMs, context.getRemainingTimeInMillis() - EndBeforeTimeoutMs));
    const ended = await streamEvents(log, out, start, { maxDurationMs }, logger);
    logger.info("event-stream-ended", { reason: ended });
  },
);
