import { TaskGuidRequestSchema, TaskLifecycleResponseSchema } from "../../core/gen/models/task_requests_pb";
import { deleteTask } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("DeleteTask", { request: TaskGuidRequestSchema, response: TaskLifecycleResponseSchema }, (request, ctx) =>
  deleteTask(ctx, request.taskGuid),
);
