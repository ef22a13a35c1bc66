// Task convergence (semantics §6.2): fail tasks that never started or whose cell is gone, re-auction
// Pending ones the auctioneer lost, bring back callbacks that never finished, and delete results
// nobody collected.
//
// Every write is conditional on the version this pass listed, as in the original, and so is every
// delete (the original's were not): a lifecycle call, or another pass, that lands first wins, and
// this pass leaves the task alone. A task is held in memory only if something is to be done with it.
//
// Callbacks are not called from here. A Completed task with a callback URL is rewritten (updated_at =
// now), and a Resolving task whose callback stalled is demoted to Completed. Either write is a change
// to "Completed with a URL", which the stream's callback reactor (core/task-callbacks.ts) delivers,
// so the kick is as durable as the store.
//
// Why cells are read before and after the tasks: see lrp-convergence.ts. A task is failed for its cell
// only when the cell is absent both times, so a cell that registered mid-pass never loses its tasks.
import { clone } from "@bufbuild/protobuf";
import { TaskSchema, Task_State, type Task } from "../gen/models/task_pb";
import type { ConvergeTasksRequest } from "../gen/models/task_requests_pb";
import { listCells } from "../cells";
import { mapLimit, type BBSContext } from "../context";
import { asCompleted } from "../models/task-transitions";
import { validateTask } from "../models/validation";
import { CompareFailedError, KeyNotFoundError } from "../store/errors";
import { TaskRoot, parseKey } from "../store/keys";
import type { StoreNode } from "../store/store";
import { decodeTask, encodeTask, taskWriteOptions } from "../tasks";
import { DEFAULT_CONVERGENCE_CONCURRENCY, snakeCaseReport } from "./lrp-convergence";

const SECOND_NS = 1_000_000_000n;

/** The three durations of ConvergeTasksRequest, in nanoseconds. */
export interface TaskConvergenceDurations {
  kickTaskDurationNs: bigint;
  expirePendingTaskDurationNs: bigint;
  expireCompletedTaskDurationNs: bigint;
}

/** The converger's defaults (semantics §6.0); they stand in for any duration a request leaves out. */
export const DEFAULT_TASK_CONVERGENCE_DURATIONS: Readonly<TaskConvergenceDurations> = {
  kickTaskDurationNs: 30n * SECOND_NS,
  expirePendingTaskDurationNs: 30n * 60n * SECOND_NS,
  expireCompletedTaskDurationNs: 120n * SECOND_NS,
};

/**
 * The durations of a ConvergeTasksRequest; one that is absent, 0 or negative is the default. The
 * original took them as sent, so an empty body (all 0 ns) failed every Pending task and deleted every
 * finished one (wire Surprise #10). The wire cannot tell an absent duration from 0 (the Go structs
 * hold them by value, and so does the codec), and no duration ≤ 0 is a useful setting.
 */
export function taskConvergenceDurations(request: ConvergeTasksRequest): TaskConvergenceDurations {
  const d = DEFAULT_TASK_CONVERGENCE_DURATIONS;
  const or = (value: bigint, fallback: bigint) => (value > 0n ? value : fallback);
  return {
    kickTaskDurationNs: or(request.kickTaskDuration, d.kickTaskDurationNs),
    expirePendingTaskDurationNs: or(request.expirePendingTaskDuration, d.expirePendingTaskDurationNs),
    expireCompletedTaskDurationNs: or(request.expireCompletedTaskDuration, d.expireCompletedTaskDurationNs),
  };
}

export const NotStartedReason = "not started within time limit";
export const CellDisappearedReason = "cell disappeared before completion";

export type TaskRepair =
  /** Pending past the kick duration: auctioned again (nothing is written, so it is kicked every pass). */
  | { kind: "kick" }
  /** Pending past expire-pending, or Running on a missing cell: completed as failed. */
  | { kind: "fail"; reason: string }
  /** Completed or Resolving past expire-completed (from first_completed_at): deleted. */
  | { kind: "delete" }
  /** Completed with a callback URL past the kick duration: rewritten, which re-triggers the callback. */
  | { kind: "rekick" }
  /** Resolving past the kick duration: its callback stalled; back to Completed. */
  | { kind: "demote" };

export interface TaskJudgeEnv extends TaskConvergenceDurations {
  nowNs: bigint;
  cellPresent(cellId: string): boolean;
}

/** The rules of semantics §6.2 for one task, first match wins. */
export function judgeTask(task: Task, env: TaskJudgeEnv): TaskRepair | undefined {
  const now = env.nowNs;
  const expiredResult = task.firstCompletedAt !== 0n && now - task.firstCompletedAt >= env.expireCompletedTaskDurationNs;
  const kickDue = now - task.updatedAt >= env.kickTaskDurationNs;
  switch (task.state) {
    case Task_State.Pending:
      if (now - task.createdAt >= env.expirePendingTaskDurationNs) return { kind: "fail", reason: NotStartedReason };
      return kickDue ? { kind: "kick" } : undefined;
    case Task_State.Running:
      // No grace period: the cell list is the truth, as consul's was.
      return env.cellPresent(task.cellId) ? undefined : { kind: "fail", reason: CellDisappearedReason };
    case Task_State.Completed:
      if (expiredResult) return { kind: "delete" };
      return kickDue && (task.taskDefinition?.completionCallbackUrl ?? "") !== "" ? { kind: "rekick" } : undefined;
    case Task_State.Resolving:
      if (expiredResult) return { kind: "delete" };
      return kickDue ? { kind: "demote" } : undefined;
    default:
      return undefined;
  }
}

/** A task as listed: the node carries the version every write of this pass is conditioned on. */
export interface ListedTask {
  node: StoreNode;
  task: Task;
}

export interface TaskRepairItem {
  listed: ListedTask;
  repair: TaskRepair;
}

export interface TaskConvergenceSnapshot {
  tasks: Iterable<ListedTask>;
  cells: ReadonlySet<string>;
  durations: TaskConvergenceDurations;
  nowNs: bigint;
}

/** The whole calculation over a snapshot in memory: what the streaming pass does page by page. */
export function calculateTaskConvergence(snapshot: TaskConvergenceSnapshot): TaskRepairItem[] {
  const env: TaskJudgeEnv = { ...snapshot.durations, nowNs: snapshot.nowNs, cellPresent: (cellId) => snapshot.cells.has(cellId) };
  const repairs: TaskRepairItem[] = [];
  for (const listed of snapshot.tasks) {
    const repair = judgeTask(listed.task, env);
    if (repair) repairs.push({ listed, repair });
  }
  return repairs;
}

/** The task with `updated_at = now`, and otherwise as `transform` leaves it. */
function rewritten(task: Task, nowNs: bigint, transform: (next: Task) => void = () => {}): Task {
  const next = clone(TaskSchema, task);
  next.updatedAt = nowNs;
  transform(next);
  return next;
}

/** The write a repair stores, or undefined for a kick (auction only) and a delete. */
export function taskAfterRepair(task: Task, repair: TaskRepair, nowNs: bigint): Task | undefined {
  switch (repair.kind) {
    case "fail":
      // The same completion the lifecycle's FailTask stores.
      return asCompleted(task, { failed: true, failureReason: repair.reason, result: "" }, nowNs);
    case "rekick":
      return rewritten(task, nowNs);
    case "demote":
      return rewritten(task, nowNs, (next) => (next.state = Task_State.Completed));
    default:
      return undefined;
  }
}

export interface TaskConvergenceReport {
  durationMs: number;
  tasks: number;
  /** Pending tasks auctioned again. */
  kicked: number;
  /** Pending tasks past expire-pending, and Running tasks on missing cells, completed as failed. */
  failed: number;
  /** Completed tasks rewritten so that their callback is delivered again. */
  callbacksRekicked: number;
  /** Resolving tasks demoted to Completed. */
  demoted: number;
  /** Completed and Resolving tasks past expire-completed. */
  deleted: number;
  invalidDeleted: number;
  lostRaces: number;
  failures: number;
}

export interface TaskConvergenceOptions {
  concurrency?: number;
}

async function presentCells(ctx: BBSContext): Promise<Set<string>> {
  return new Set((await listCells(ctx)).map((cell) => cell.cellId));
}

const isLostRace = (error: unknown) => error instanceof CompareFailedError || error instanceof KeyNotFoundError;

/**
 * One task convergence pass. A store failure while listing aborts it (and is thrown) before anything
 * is written; failures of single writes and of the auction are logged and counted.
 */
export async function convergeTasks(
  ctx: BBSContext,
  durations: TaskConvergenceDurations = DEFAULT_TASK_CONVERGENCE_DURATIONS,
  options: TaskConvergenceOptions = {},
): Promise<TaskConvergenceReport> {
  const started = performance.now();
  const logger = ctx.logger.with({ session: "converge-tasks" });
  const concurrency = options.concurrency ?? DEFAULT_CONVERGENCE_CONCURRENCY;
  const report: TaskConvergenceReport = {
    durationMs: 0,
    tasks: 0,
    kicked: 0,
    failed: 0,
    callbacksRekicked: 0,
    demoted: 0,
    deleted: 0,
    invalidDeleted: 0,
    lostRaces: 0,
    failures: 0,
  };

  let repairs: TaskRepairItem[] = [];
  const invalid: { node: StoreNode; problems: string[] }[] = [];
  let nowNs: bigint;
  try {
    const cellsBefore = await presentCells(ctx);
    nowNs = ctx.clock.nowNs();
    const env: TaskJudgeEnv = { ...durations, nowNs, cellPresent: (cellId) => cellsBefore.has(cellId) };
    await ctx.store.forEachNode(
      TaskRoot,
      (nodes) => {
        for (const node of nodes) {
          const parsed = parseKey(node.key);
          if (parsed.kind !== "task") continue;
          let task: Task;
          try {
            task = decodeTask(node);
          } catch (error) {
            invalid.push({ node, problems: [`undecodable: ${error instanceof Error ? error.message : String(error)}`] });
            continue;
          }
          const problems = validateTask(task);
          if (task.taskGuid !== parsed.taskGuid) problems.push("record does not match its key");
          if (problems.length > 0) {
            invalid.push({ node, problems });
            continue;
          }
          report.tasks++;
          const repair = judgeTask(task, env);
          if (repair) repairs.push({ listed: { node, task }, repair });
        }
      },
      { withoutLabels: true },
    );
    const cellsAfter = await presentCells(ctx);
    // A cell that was missing before the listing but registered by its end keeps its tasks.
    repairs = repairs.filter(({ listed, repair }) => !(repair.kind === "fail" && listed.task.state === Task_State.Running && cellsAfter.has(listed.task.cellId)));
  } catch (error) {
    logger.error("converge-tasks.aborted", error, { duration_ms: Math.round(performance.now() - started) });
    throw error;
  }

  const outcome = async (what: () => Promise<unknown>, log: Record<string, unknown>): Promise<boolean> => {
    try {
      await what();
      return true;
    } catch (error) {
      if (isLostRace(error)) {
        report.lostRaces++;
        logger.debug("task-repair-lost-race", log);
      } else {
        report.failures++;
        logger.error("failed-to-repair-task", error, log);
      }
      return false;
    }
  };

  // Deleted before anything else, as the original pruned them first.
  await mapLimit(invalid, concurrency, async ({ node, problems }) => {
    logger.info("deleting-invalid-record", { key: node.key, problems });
    if (await outcome(() => ctx.store.compareAndDelete(node.key, node.version), { key: node.key })) report.invalidDeleted++;
  });

  // One auction request for every kicked task (semantics §9.1).
  const kicked = repairs.filter((r) => r.repair.kind === "kick").map((r) => r.listed.task);
  if (kicked.length > 0) {
    try {
      await ctx.auctioneer.requestTaskAuctions(kicked);
      report.kicked = kicked.length;
    } catch (error) {
      // Still Pending, so the next pass kicks them again.
      report.failures += kicked.length;
      logger.error("failed-to-request-task-auctions", error, { tasks: kicked.length });
    }
  }

  const writes = repairs.filter((r) => r.repair.kind === "fail" || r.repair.kind === "rekick" || r.repair.kind === "demote");
  await mapLimit(writes, concurrency, async ({ listed, repair }) => {
    const next = taskAfterRepair(listed.task, repair, nowNs)!;
    const log = { task_guid: listed.task.taskGuid, repair: repair.kind };
    const ok = await outcome(() => ctx.store.compareAndSwap(listed.node.key, encodeTask(next), listed.node.version, taskWriteOptions(next)), log);
    if (!ok) return;
    if (repair.kind === "fail") report.failed++;
    else if (repair.kind === "rekick") report.callbacksRekicked++;
    else report.demoted++;
  });

  const deletes = repairs.filter((r) => r.repair.kind === "delete");
  await mapLimit(deletes, concurrency, async ({ listed }) => {
    const log = { task_guid: listed.task.taskGuid, repair: "delete" };
    if (await outcome(() => ctx.store.compareAndDelete(listed.node.key, listed.node.version), log)) report.deleted++;
  });

  report.durationMs = Math.round(performance.now() - started);
  ctx.logger.info("converge-tasks.done", snakeCaseReport(report));
  return report;
}
