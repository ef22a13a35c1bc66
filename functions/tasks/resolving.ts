import { TaskGuidRequestSchema, TaskLifecycleResponseSchema } from "../../core/gen/models/task_requests_pb";
import { resolvingTask } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("ResolvingTask", { request: TaskGuidRequestSchema, response: TaskLifecycleResponseSchema }, (request, ctx) =>
  resolvingTask(ctx, request.taskGuid),
);
