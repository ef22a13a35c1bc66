import { convergeTasks, taskConvergenceDurations } from "../../core/convergence/task-convergence";
import { ConvergeTasksRequestSchema, ConvergeTasksResponseSchema } from "../../core/gen/models/task_requests_pb";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("ConvergeTasks", { request: ConvergeTasksRequestSchema, response: ConvergeTasksResponseSchema }, async (request, ctx) => {
  await convergeTasks(ctx, taskConvergenceDurations(request));
});
