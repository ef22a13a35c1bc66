// The task lifecycle rules of db/etcd/task_db.go and models/task.go, without the store: each check
// either throws the BBS error the original returned or says what to write. The store code in
// core/tasks.ts only reads, applies one of these, and compare-and-swaps.
import { clone } from "@bufbuild/protobuf";
import { TaskSchema, Task_State, type Task } from "../gen/models/task_pb";
import { runningOnDifferentCellError, taskTransitionError } from "./errors";

export const CancelledReason = "task was cancelled";

/** Go's String() of the enum: the name, or the decimal number for a value it does not know. */
export const taskStateName = (state: Task_State): string => Task_State[state] ?? String(state);

/** models.Task.ValidateTransitionTo: Pending → Running → Completed → Resolving and nothing else. */
export function assertTransition(from: Task_State, to: Task_State): void {
  const allowed =
    (to === Task_State.Running && from === Task_State.Pending) ||
    (to === Task_State.Completed && from === Task_State.Running) ||
    (to === Task_State.Resolving && from === Task_State.Completed);
  if (!allowed) throw taskTransitionError(taskStateName(from), taskStateName(to));
}

/**
 * StartTask: true when the task must be written Running on `cellId`; false when that cell already
 * runs it (the rep asks again after a restart, and must not start it twice).
 */
export function shouldStart(task: Task, cellId: string): boolean {
  if (task.state === Task_State.Running && task.cellId === cellId) return false;
  assertTransition(task.state, Task_State.Running);
  return true;
}

/** Cancel and Fail also complete a task that never started (the auctioneer fails unplaceable ones). */
export function assertCanCancelOrFail(task: Task): void {
  if (task.state === Task_State.Pending) return;
  assertTransition(task.state, Task_State.Completed);
}

/** CompleteTask: the cell check comes first, so a task running elsewhere never reports a transition. */
export function assertCanComplete(task: Task, cellId: string): void {
  if (task.state === Task_State.Running && task.cellId !== cellId) throw runningOnDifferentCellError(cellId, task.cellId);
  assertTransition(task.state, Task_State.Completed);
}

/** DeleteTask names the transition to Resolving, although it deletes a task that is already Resolving. */
export function assertCanDelete(task: Task): void {
  if (task.state !== Task_State.Resolving) throw taskTransitionError(taskStateName(task.state), taskStateName(Task_State.Resolving));
}

export function asRunning(task: Task, cellId: string, nowNs: bigint): Task {
  const next = clone(TaskSchema, task);
  next.state = Task_State.Running;
  next.cellId = cellId;
  next.updatedAt = nowNs;
  return next;
}

/** markTaskCompleted: first_completed_at is overwritten on every completion, as in the original. */
export function asCompleted(task: Task, outcome: { failed: boolean; failureReason: string; result: string }, nowNs: bigint): Task {
  const next = clone(TaskSchema, task);
  next.state = Task_State.Completed;
  next.cellId = "";
  next.updatedAt = nowNs;
  next.firstCompletedAt = nowNs;
  next.failed = outcome.failed;
  next.failureReason = outcome.failureReason;
  next.result = outcome.result;
  return next;
}

export function asResolving(task: Task, nowNs: bigint): Task {
  const next = clone(TaskSchema, task);
  next.state = Task_State.Resolving;
  next.updatedAt = nowNs;
  return next;
}

/** Whether a stored task is waiting for its completion callback to be delivered. */
export const awaitsCallback = (task: Task): boolean =>
  task.state === Task_State.Completed && (task.taskDefinition?.completionCallbackUrl ?? "") !== "";
