import { create } from "@bufbuild/protobuf";
import { TaskSchema, Task_State, type Task, type TaskDefinition } from "./gen/models/task_pb";
import type { BBSContext } from "./context";
import { cellById } from "./cells";
import { deserializeJSONError, invalidRecord, unknownError } from "./models/errors";
import {
  CancelledReason,
  asCompleted,
  asResolving,
  asRunning,
  assertCanCancelOrFail,
  assertCanComplete,
  assertCanDelete,
  assertTransition,
  shouldStart,
} from "./models/task-transitions";
import { validateTask, validationMessage } from "./models/validation";
import { canonicalStringField } from "./models/codec";
import { decodeRecord, encodeRecord, listedRecord, visitNodes, type ListedRecord } from "./records";
import { bbsErrorFromStore } from "./store-errors";
import { TaskRoot, parseKey, taskKey } from "./store/keys";
import type { StoreNode } from "./store/store";

export interface TaskFilter {
  domain?: string;
  cellId?: string;
}

export const decodeTask = (node: StoreNode) => decodeRecord(TaskSchema, node.value);
export const encodeTask = (task: Task) => encodeRecord(TaskSchema, task);
export const taskWriteOptions = (task: Task) => ({ labels: { domain: task.domain, cell_id: task.cellId } });

export async function readTask(ctx: BBSContext, taskGuid: string): Promise<{ node: StoreNode; task: Task }> {
  let node: StoreNode;
  try {
    node = await ctx.store.get(taskKey(taskGuid));
  } catch (error) {
    throw bbsErrorFromStore(error);
  }
  try {
    return { node, task: decodeTask(node) };
  } catch {
    throw deserializeJSONError();
  }
}

/** Listed tasks, in task guid order: decoded on demand, or carried into a protobuf response as stored. */
export interface TaskList {
  readonly length: number;
  tasks(): Task[];
  /** TasksResponse elements, without decoding. */
  encoded(): Uint8Array[];
}

const TaskGuidField = TaskSchema.field.taskGuid.number;

export async function taskList(ctx: BBSContext, filter: TaskFilter = {}): Promise<TaskList> {
  const listed: { guid: string; key: string; task: ListedRecord<Task> }[] = [];
  await visitNodes(ctx, TaskRoot, (node) => {
    if (parseKey(node.key).kind !== "task") return;
    if (filter.domain && node.labels?.domain !== filter.domain) return;
    if (filter.cellId && node.labels?.cell_id !== filter.cellId) return;
    let task: ListedRecord<Task>;
    try {
      task = listedRecord(TaskSchema, node.value);
    } catch (error) {
      throw unknownError(error);
    }
    listed.push({ guid: task.canonical ? canonicalStringField(task.bytes, TaskGuidField) : task.message().taskGuid, key: node.key, task });
  }, { withoutLabels: !filter.domain && !filter.cellId });
  // Pages arrive in any order: equal guids (a record that does not match its key) fall back to key order.
  listed.sort((a, b) => (a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    length: listed.length,
    tasks: () => listed.map((l) => l.task.message()),
    encoded: () => listed.map((l) => l.task.bytes),
  };
}

export async function listTasks(ctx: BBSContext, filter: TaskFilter = {}): Promise<Task[]> {
  return (await taskList(ctx, filter)).tasks();
}

export async function taskByGuid(ctx: BBSContext, taskGuid: string): Promise<Task> {
  return (await readTask(ctx, taskGuid)).task;
}

/** DesireTask: stored Pending exactly once, then auctioned; a failed auction is left to convergence. */
export async function desireTask(ctx: BBSContext, taskGuid: string, domain: string, definition: TaskDefinition): Promise<void> {
  const now = ctx.clock.nowNs();
  const task = create(TaskSchema, {
    taskDefinition: definition,
    taskGuid,
    domain,
    createdAt: now,
    updatedAt: now,
    firstCompletedAt: 0n,
    state: Task_State.Pending,
    cellId: "",
    result: "",
    failed: false,
    failureReason: "",
  });
  const problems = validateTask(task);
  if (problems.length > 0) throw invalidRecord(validationMessage(problems));
  try {
    await ctx.store.create(taskKey(taskGuid), encodeTask(task), taskWriteOptions(task));
  } catch (error) {
    throw bbsErrorFromStore(error);
  }
  try {
    await ctx.auctioneer.requestTaskAuctions([task]);
  } catch (error) {
    ctx.logger.error("failed-to-request-task-auction", error, { task_guid: taskGuid });
  }
}

/**
 * Every lifecycle write is a compare-and-swap on the version just read, so of two concurrent
 * transitions exactly one lands. The loser gets ResourceConflict (the original's etcd mapping said
 * UnknownError at 0344309c; ResourceConflict is what it said from ac2e50f7 on, and tells the caller
 * that a retry may succeed).
 */
async function swapTask(ctx: BBSContext, node: StoreNode, task: Task): Promise<StoreNode> {
  const problems = validateTask(task);
  if (problems.length > 0) throw invalidRecord(validationMessage(problems));
  try {
    return await ctx.store.compareAndSwap(taskKey(task.taskGuid), encodeTask(task), node.version, taskWriteOptions(task));
  } catch (error) {
    throw bbsErrorFromStore(error);
  }
}

/** StartTask: false (and no write) when the same cell already runs the task. */
export async function startTask(ctx: BBSContext, taskGuid: string, cellId: string): Promise<boolean> {
  const { node, task } = await readTask(ctx, taskGuid);
  if (!shouldStart(task, cellId)) return false;
  await swapTask(ctx, node, asRunning(task, cellId, ctx.clock.nowNs()));
  return true;
}

/**
 * CancelTask: completes the task as failed, then asks the cell that ran it to stop. The completion is
 * what counts; the rep call is best effort (a lost cell is handled by convergence anyway).
 */
export async function cancelTask(ctx: BBSContext, taskGuid: string): Promise<void> {
  const { node, task } = await readTask(ctx, taskGuid);
  assertCanCancelOrFail(task);
  await swapTask(ctx, node, asCompleted(task, { failed: true, failureReason: CancelledReason, result: "" }, ctx.clock.nowNs()));
  if (task.cellId !== "") await cancelOnCell(ctx, task.cellId, taskGuid);
}

async function cancelOnCell(ctx: BBSContext, cellId: string, taskGuid: string): Promise<void> {
  const logger = ctx.logger.with({ task_guid: taskGuid, cell_id: cellId });
  let repAddress: string;
  try {
    repAddress = (await cellById(ctx, cellId)).repAddress;
  } catch (error) {
    logger.error("failed-fetching-cell-presence", error);
    return;
  }
  try {
    await ctx.reps.cancelTask(repAddress, taskGuid);
  } catch (error) {
    logger.error("failed-cancelling-task-on-rep", error, { rep_address: repAddress });
  }
}

/** FailTask: no cell check and no rep call; the auctioneer fails tasks it cannot place, while Pending. */
export async function failTask(ctx: BBSContext, taskGuid: string, failureReason: string): Promise<void> {
  const { node, task } = await readTask(ctx, taskGuid);
  assertCanCancelOrFail(task);
  await swapTask(ctx, node, asCompleted(task, { failed: true, failureReason, result: "" }, ctx.clock.nowNs()));
}

export interface TaskOutcome {
  failed: boolean;
  failureReason: string;
  result: string;
}

/**
 * CompleteTask: only the cell running the task may complete it. The completion callback, if any, is
 * not run here: the write to Completed reaches the store's change stream, whose consumer delivers it
 * (core/task-callbacks.ts), so a slow callback URL never holds up the cell.
 */
export async function completeTask(ctx: BBSContext, taskGuid: string, cellId: string, outcome: TaskOutcome): Promise<void> {
  const { node, task } = await readTask(ctx, taskGuid);
  assertCanComplete(task, cellId);
  await swapTask(ctx, node, asCompleted(task, outcome, ctx.clock.nowNs()));
}

/** ResolvingTask: a client without a callback URL claims a Completed task before deleting it. */
export async function resolvingTask(ctx: BBSContext, taskGuid: string): Promise<void> {
  const { node, task } = await readTask(ctx, taskGuid);
  assertTransition(task.state, Task_State.Resolving);
  await swapTask(ctx, node, asResolving(task, ctx.clock.nowNs()));
}

/**
 * DeleteTask (ResolveTask in the original). The original checked Resolving and then deleted without a
 * condition, so a task demoted back to Completed in between was deleted unresolved; deleting on the
 * version read closes that window (the loser gets ResourceConflict).
 */
export async function deleteTask(ctx: BBSContext, taskGuid: string): Promise<void> {
  const { node, task } = await readTask(ctx, taskGuid);
  assertCanDelete(task);
  try {
    await ctx.store.compareAndDelete(taskKey(taskGuid), node.version);
  } catch (error) {
    throw bbsErrorFromStore(error);
  }
}
