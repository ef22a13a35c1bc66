import { CompleteTaskRequestSchema, TaskLifecycleResponseSchema } from "../../core/gen/models/task_requests_pb";
import { completeTask } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

// Returns once the task is stored Completed; its callback is delivered from the change stream.
export const handler = bbsHandler("CompleteTask", { request: CompleteTaskRequestSchema, response: TaskLifecycleResponseSchema }, (request, ctx) =>
  completeTask(ctx, request.taskGuid, request.cellId, { failed: request.failed, failureReason: request.failureReason, result: request.result }),
);
