import { TaskGuidRequestSchema, TaskLifecycleResponseSchema } from "../../core/gen/models/task_requests_pb";
import { cancelTask } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("CancelTask", { request: TaskGuidRequestSchema, response: TaskLifecycleResponseSchema }, (request, ctx) =>
  cancelTask(ctx, request.taskGuid),
);
