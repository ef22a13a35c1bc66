import { FailTaskRequestSchema, TaskLifecycleResponseSchema } from "../../core/gen/models/task_requests_pb";
import { failTask } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("FailTask", { request: FailTaskRequestSchema, response: TaskLifecycleResponseSchema }, (request, ctx) =>
  failTask(ctx, request.taskGuid, request.failureReason),
);
