import { StartTaskRequestSchema, StartTaskResponseSchema } from "../../core/gen/models/task_requests_pb";
import { startTask } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("StartTask", { request: StartTaskRequestSchema, response: StartTaskResponseSchema }, async (request, ctx) => ({
  shouldStart: await startTask(ctx, request.taskGuid, request.cellId),
}));
