import { DesireTaskRequestSchema, TaskLifecycleResponseSchema } from "../../core/gen/models/task_requests_pb";
import type { TaskDefinition } from "../../core/gen/models/task_pb";
import { desireTask } from "../../core/tasks";
import { bbsHandler } from "../_shared/bbs-handler";

export const handler = bbsHandler("DesireTask", { request: DesireTaskRequestSchema, response: TaskLifecycleResponseSchema }, (request, ctx) =>
  desireTask(ctx, request.taskGuid, request.domain, request.taskDefinition as TaskDefinition),
);
