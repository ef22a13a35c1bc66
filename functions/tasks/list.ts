import { TasksRequestSchema, TasksResponseSchema } from "../../core/gen/models/task_requests_pb";
import { listTasks } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("Tasks", { request: TasksRequestSchema, response: TasksResponseSchema }, async (request, ctx) => ({
  tasks: await listTasks(ctx, { domain: request.domain, cellId: request.cellId }),
}));
