// The rules of task convergence (semantics §6.2) as pure calculations, with an injected clock.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../core/clock";
import {
  CellDisappearedReason,
  DEFAULT_TASK_CONVERGENCE_DURATIONS,
  NotStartedReason,
  calculateTaskConvergence,
  judgeTask,
  taskAfterRepair,
  taskConvergenceDurations,
  type TaskJudgeEnv,
} from "../../core/convergence/task-convergence";
import { Task_State } from "../../core/gen/models/task_pb";
import { ConvergeTasksRequestSchema } from "../../core/gen/models/task_requests_pb";
import { decodeMessage } from "../../core/models/codec";
import { MINUTE_NS, SECOND_NS, listedTask, task } from "../support/convergence-fixtures";

const { Pending, Running, Completed, Resolving } = Task_State;
const clock = new ManualClock(Date.UTC(2026, 0, 1));
const now = () => clock.nowNs();
const ago = (ns: bigint) => now() - ns;

const K = 30n * SECOND_NS;
const P = 30n * MINUTE_NS;
const E = 120n * SECOND_NS;

function env(cells: string[] = ["cell-a"]): TaskJudgeEnv {
  const present = new Set(cells);
  return {
    kickTaskDurationNs: K,
    expirePendingTaskDurationNs: P,
    expireCompletedTaskDurationNs: E,
    nowNs: now(),
    cellPresent: (id) => present.has(id),
  };
}

describe("Pending tasks", () => {
  it("are failed once created at least expire-pending ago", () => {
    expect(judgeTask(task("t", Pending, { createdAt: ago(P) }), env())).toEqual({ kind: "fail", reason: NotStartedReason });
    expect(judgeTask(task("t", Pending, { createdAt: ago(P - 1n), updatedAt: now() }), env())).toBeUndefined();
  });

  it("are re-auctioned once updated at least kick ago, and the kick is not written, so every pass kicks again", () => {
    expect(judgeTask(task("t", Pending, { createdAt: ago(K) }), env())).toEqual({ kind: "kick" });
    expect(judgeTask(task("t", Pending, { createdAt: ago(K - 1n) }), env())).toBeUndefined();
    expect(taskAfterRepair(task("t", Pending, { createdAt: ago(K) }), { kind: "kick" }, now())).toBeUndefined();
  });

  it("fail before they kick (first matching rule)", () => {
    expect(judgeTask(task("t", Pending, { createdAt: ago(P), updatedAt: ago(K) }), env())?.kind).toBe("fail");
  });
});

describe("Running tasks", () => {
  it("are failed when their cell is not present, with no grace period", () => {
    expect(judgeTask(task("t", Running, { createdAt: now(), cellId: "cell-gone" }), env())).toEqual({ kind: "fail", reason: CellDisappearedReason });
    expect(judgeTask(task("t", Running, { createdAt: ago(P * 10n), cellId: "cell-a" }), env())).toBeUndefined();
    expect(judgeTask(task("t", Running, { createdAt: now(), cellId: "cell-a" }), env([]))).toEqual({ kind: "fail", reason: CellDisappearedReason });
  });

  it("are failed with the completion the lifecycle's FailTask writes", () => {
    const running = task("t", Running, { createdAt: ago(MINUTE_NS), cellId: "cell-gone" });
    const failed = taskAfterRepair(running, { kind: "fail", reason: CellDisappearedReason }, now())!;
    expect(failed).toMatchObject({ state: Completed, failed: true, failureReason: CellDisappearedReason, cellId: "", updatedAt: now(), firstCompletedAt: now(), result: "" });
    expect(running.state).toBe(Running);
  });
});

describe("Completed tasks", () => {
  it("are deleted once first completed at least expire-completed ago", () => {
    expect(judgeTask(task("t", Completed, { createdAt: ago(E), firstCompletedAt: ago(E) }), env())).toEqual({ kind: "delete" });
    expect(judgeTask(task("t", Completed, { createdAt: ago(E), firstCompletedAt: ago(E - 1n), updatedAt: now() }), env())).toBeUndefined();
  });

  it("never expire when first_completed_at is 0", () => {
    expect(judgeTask(task("t", Completed, { createdAt: ago(E * 100n), updatedAt: now(), firstCompletedAt: 0n }), env())).toBeUndefined();
  });

  it("with a callback URL are rewritten once updated at least kick ago, so the callback is delivered again", () => {
    const withURL = task("t", Completed, { createdAt: ago(K), firstCompletedAt: ago(K), callbackUrl: "http://cb.example/done" });
    expect(judgeTask(withURL, env())).toEqual({ kind: "rekick" });
    const rewritten = taskAfterRepair(withURL, { kind: "rekick" }, now())!;
    expect(rewritten).toMatchObject({ state: Completed, updatedAt: now(), firstCompletedAt: ago(K) });
    expect(judgeTask(task("t", Completed, { createdAt: ago(K - 1n), callbackUrl: "http://cb.example/done" }), env())).toBeUndefined();
  });

  it("without a callback URL are left for a client to resolve", () => {
    expect(judgeTask(task("t", Completed, { createdAt: ago(K), firstCompletedAt: ago(K) }), env())).toBeUndefined();
  });
});

describe("Resolving tasks", () => {
  it("are deleted once first completed at least expire-completed ago", () => {
    expect(judgeTask(task("t", Resolving, { createdAt: ago(E), firstCompletedAt: ago(E) }), env())).toEqual({ kind: "delete" });
  });

  it("are demoted to Completed once updated at least kick ago, keeping first_completed_at", () => {
    const stalled = task("t", Resolving, { createdAt: ago(K), firstCompletedAt: ago(K), callbackUrl: "http://cb.example/done" });
    expect(judgeTask(stalled, env())).toEqual({ kind: "demote" });
    expect(taskAfterRepair(stalled, { kind: "demote" }, now())).toMatchObject({ state: Completed, updatedAt: now(), firstCompletedAt: ago(K) });
    expect(judgeTask(task("t", Resolving, { createdAt: ago(K - 1n) }), env())).toBeUndefined();
  });
});

describe("the whole calculation", () => {
  it("keeps only the tasks to repair, with the version listed", () => {
    const tasks = [
      task("fresh", Pending, { createdAt: now() }),
      task("kick", Pending, { createdAt: ago(MINUTE_NS) }),
      task("lost", Running, { createdAt: now(), cellId: "cell-gone" }),
      task("here", Running, { createdAt: now(), cellId: "cell-a" }),
      task("gone", Completed, { createdAt: ago(10n * MINUTE_NS), firstCompletedAt: ago(5n * MINUTE_NS) }),
    ].map((t) => listedTask(t, 3));
    const repairs = calculateTaskConvergence({ tasks, cells: new Set(["cell-a"]), durations: DEFAULT_TASK_CONVERGENCE_DURATIONS, nowNs: now() });
    expect(repairs.map((r) => [r.listed.task.taskGuid, r.repair.kind, r.listed.node.version])).toEqual([
      ["kick", "kick", 3],
      ["lost", "fail", 3],
      ["gone", "delete", 3],
    ]);
  });

  it("follows the injected clock", () => {
    const pending = listedTask(task("t", Pending, { createdAt: now() }));
    const at = (nowNs: bigint) => calculateTaskConvergence({ tasks: [pending], cells: new Set(), durations: DEFAULT_TASK_CONVERGENCE_DURATIONS, nowNs });
    expect(at(now())).toEqual([]);
    clock.advance(30_000);
    try {
      expect(at(now()).map((r) => r.repair.kind)).toEqual(["kick"]);
    } finally {
      clock.advance(-30_000);
    }
  });
});

describe("ConvergeTasksRequest durations", () => {
  it("default to 30 s / 30 min / 120 s when the body leaves them out, so an empty body does not wipe the task list", () => {
    const empty = decodeMessage(ConvergeTasksRequestSchema, new Uint8Array(0));
    expect(taskConvergenceDurations(empty)).toEqual({ kickTaskDurationNs: K, expirePendingTaskDurationNs: P, expireCompletedTaskDurationNs: E });
  });

  it("default when 0 or negative, which is how the wire and the Go client carry \"absent\"; positive ones are taken as sent", () => {
    // kick_task_duration = 1 s, expire_pending_task_duration = 0, expire_completed_task_duration = -1.
    const bytes = Uint8Array.from([0x08, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0x10, 0x00, 0x18, ...Array(9).fill(0xff), 0x01]);
    const request = decodeMessage(ConvergeTasksRequestSchema, bytes);
    expect(request.expireCompletedTaskDuration).toBe(-1n);
    expect(taskConvergenceDurations(request)).toEqual({ kickTaskDurationNs: SECOND_NS, expirePendingTaskDurationNs: P, expireCompletedTaskDurationNs: E });
    expect(taskConvergenceDurations(create(ConvergeTasksRequestSchema, { expireCompletedTaskDuration: 5n }))).toMatchObject({ expireCompletedTaskDurationNs: 5n });
  });
});
