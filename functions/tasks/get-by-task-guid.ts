import { TaskByGuidRequestSchema, TaskResponseSchema } from "../../core/gen/models/task_requests_pb";
import { taskByGuid } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

// A GET whose protobuf request travels in the body, as the original client sends it.
export const handler = bbsHandler("TaskByGuid", { request: TaskByGuidRequestSchema, response: TaskResponseSchema }, async (request, ctx) => ({
  task: await taskByGuid(ctx, request.taskGuid),
}));
