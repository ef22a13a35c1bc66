// GET /v1/events: server-sent events need a response that outlives API Gateway's 30 s cap, so the
// route table's streaming entries get a response-streaming function behind a function URL instead.
import { routes } from "../core/routes";
import { streamingFunctions } from "./api-routes";
import { functionArgs } from "./functions";

export const eventFunctions = streamingFunctions(routes).map(
  (fn) =>
    new sst.aws.Function(
      fn.id,
      functionArgs(fn, {
        streaming: true,
        // Callers sign with SigV4 for the `lambda` service and need lambda:InvokeFunctionUrl.
        url: { authorization: "iam", cors: false },
        // Lambda's maximum; the handler ends the stream before it and clients reconnect.
        timeout: "15 minutes",
        // Each open stream is a running invocation: keep its GB-s small (see infra/DEPLOYING.md).
        memory: "256 MB",
      }),
    ),
);
