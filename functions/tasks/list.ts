import { TasksRequestSchema, TasksResponseSchema } from "../../core/gen/models/task_requests_pb";
import { encodeListResponse } from "../../core/models/codec";
import { taskList } from "../../core/tasks";
import { bbsHandler, encodedResponse } from "../_shared/bbs-handler";

// The stored records go into the protobuf response as they are (core/records.ts, listedRecord).
export const handler = bbsHandler("Tasks", { request: TasksRequestSchema, response: TasksResponseSchema }, async (request, ctx) => {
  const list = await taskList(ctx, { domain: request.domain, cellId: request.cellId });
  return encodedResponse(
    (allocate) => encodeListResponse(TasksResponseSchema, "tasks", list.encoded(), allocate),
    () => ({ tasks: list.tasks() }),
  );
});
