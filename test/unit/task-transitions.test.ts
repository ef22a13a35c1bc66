import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TaskDefinitionSchema, TaskSchema, Task_State, type Task } from "../../core/gen/models/task_pb";
import { BbsError } from "../../core/models/errors";
import {
  asCompleted,
  asResolving,
  asRunning,
  assertCanCancelOrFail,
  assertCanComplete,
  assertCanDelete,
  assertTransition,
  awaitsCallback,
  shouldStart,
  taskStateName,
} from "../../core/models/task-transitions";

const { Pending, Running, Completed, Resolving } = Task_State;

function task(state: Task_State, cellId = "", callbackURL = ""): Task {
  return create(TaskSchema, {
    taskGuid: "t",
    domain: "d",
    state,
    cellId,
    createdAt: 1n,
    updatedAt: 1n,
    taskDefinition: create(TaskDefinitionSchema, { rootFs: "docker:///x", completionCallbackUrl: callbackURL }),
  });
}

function thrown(fn: () => unknown): { type: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!(error instanceof BbsError)) throw error;
    return { type: error.type, message: error.message };
  }
}

const iste = (from: string, to: string) => ({ type: "InvalidStateTransition", message: `Cannot transition from ${from} to ${to}` });

describe("task transition rules", () => {
  it("allows only Pending → Running → Completed → Resolving", () => {
    const states = [Pending, Running, Completed, Resolving];
    const allowed = states.flatMap((from) => states.filter((to) => thrown(() => assertTransition(from, to)) === undefined).map((to) => `${taskStateName(from)}→${taskStateName(to)}`));
    expect(allowed).toEqual(["Pending→Running", "Running→Completed", "Completed→Resolving"]);
    expect(thrown(() => assertTransition(Resolving, Running))).toEqual(iste("Resolving", "Running"));
  });

  it("names states as Go's String() does, numbers for unknown values", () => {
    expect([Task_State.Invalid, Pending, Running, Completed, Resolving].map(taskStateName)).toEqual(["Invalid", "Pending", "Running", "Completed", "Resolving"]);
    expect(taskStateName(9 as Task_State)).toBe("9");
  });

  it("starts a Pending task, answers false to the cell already running it, refuses the rest", () => {
    expect(shouldStart(task(Pending), "cell-a")).toBe(true);
    expect(shouldStart(task(Running, "cell-a"), "cell-a")).toBe(false);
    expect(thrown(() => shouldStart(task(Running, "cell-a"), "cell-b"))).toEqual(iste("Running", "Running"));
    expect(thrown(() => shouldStart(task(Completed), "cell-a"))).toEqual(iste("Completed", "Running"));
    expect(thrown(() => shouldStart(task(Resolving), "cell-a"))).toEqual(iste("Resolving", "Running"));
  });

  it("cancels or fails Pending and Running tasks only", () => {
    expect(thrown(() => assertCanCancelOrFail(task(Pending)))).toBeUndefined();
    expect(thrown(() => assertCanCancelOrFail(task(Running, "cell-a")))).toBeUndefined();
    expect(thrown(() => assertCanCancelOrFail(task(Completed)))).toEqual(iste("Completed", "Completed"));
    expect(thrown(() => assertCanCancelOrFail(task(Resolving)))).toEqual(iste("Resolving", "Completed"));
  });

  it("completes only on the running cell, naming the actual cell first", () => {
    expect(thrown(() => assertCanComplete(task(Running, "cell-a"), "cell-a"))).toBeUndefined();
    expect(thrown(() => assertCanComplete(task(Running, "cell-a"), "cell-b"))).toEqual({
      type: "RunningOnDifferentCell",
      message: "Running on cell cell-a not cell-b",
    });
    expect(thrown(() => assertCanComplete(task(Pending), "cell-a"))).toEqual(iste("Pending", "Completed"));
    expect(thrown(() => assertCanComplete(task(Completed), "cell-a"))).toEqual(iste("Completed", "Completed"));
    expect(thrown(() => assertCanComplete(task(Resolving), "cell-a"))).toEqual(iste("Resolving", "Completed"));
  });

  it("deletes only Resolving tasks, naming the transition to Resolving", () => {
    expect(thrown(() => assertCanDelete(task(Resolving)))).toBeUndefined();
    expect(thrown(() => assertCanDelete(task(Pending)))).toEqual(iste("Pending", "Resolving"));
    expect(thrown(() => assertCanDelete(task(Running, "c")))).toEqual(iste("Running", "Resolving"));
    expect(thrown(() => assertCanDelete(task(Completed)))).toEqual(iste("Completed", "Resolving"));
  });

  it("builds the written records without touching the one read", () => {
    const pending = task(Pending);
    const running = asRunning(pending, "cell-a", 5n);
    expect(running).toMatchObject({ state: Running, cellId: "cell-a", updatedAt: 5n, createdAt: 1n });
    expect(pending.state).toBe(Pending);

    const completed = asCompleted(running, { failed: true, failureReason: "boom", result: "r" }, 7n);
    expect(completed).toMatchObject({ state: Completed, cellId: "", updatedAt: 7n, firstCompletedAt: 7n, failed: true, failureReason: "boom", result: "r" });
    expect(asCompleted(completed, { failed: false, failureReason: "", result: "" }, 9n).firstCompletedAt).toBe(9n);

    expect(asResolving(completed, 8n)).toMatchObject({ state: Resolving, updatedAt: 8n, firstCompletedAt: 7n, result: "r" });
  });

  it("awaits a callback only when Completed with a callback URL", () => {
    expect(awaitsCallback(task(Completed, "", "http://cb"))).toBe(true);
    expect(awaitsCallback(task(Completed))).toBe(false);
    expect(awaitsCallback(task(Resolving, "", "http://cb"))).toBe(false);
    expect(awaitsCallback(task(Running, "c", "http://cb"))).toBe(false);
  });
});
