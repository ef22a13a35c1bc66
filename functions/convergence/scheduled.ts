// Convergence on a timer. The original BBS had none: a separate converger process called both
// convergence endpoints every 30 s (semantics §6.0). Here the work runs in this function:
//
// - On AWS an EventBridge schedule invokes it once a minute, the finest rate AWS schedules allow
//   (infra/convergence.ts). One invocation therefore runs a round (sweep, LRP pass, task pass) at 0 s
//   and another BBS_CONVERGENCE_INTERVAL later, 30 s by default: the 30 s cadence with a one-minute
//   schedule. Between rounds it sweeps expired nodes every BBS_EXPIRY_SWEEP_INTERVAL (5 s), because a
//   cell's expired presence reaches the change stream only once it is deleted, and that deletion is
//   what makes cell-loss.ts converge at once; DynamoDB's own TTL deletion can take days. The
//   invocation stops scheduling work one sweep interval before the minute ends, and when the Lambda
//   has less than that left, so it never overlaps the next one.
// - Locally, infra/local/stack.ts invokes it with `{ rounds: 1 }` every BBS_CONVERGENCE_INTERVAL and
//   with `{ sweepOnly: true }` every BBS_EXPIRY_SWEEP_INTERVAL, which is the same work on the same
//   cadence with Node timers.
import type { Context } from "aws-lambda";
import type { BBSContext } from "../../core/context";
import { convergeLRPs, type LRPConvergenceReport } from "../../core/convergence/lrp-convergence";
import { convergeTasks, type TaskConvergenceReport } from "../../core/convergence/task-convergence";
import { bbsContext } from "../_shared/dependencies";

/** EventBridge schedules no finer than this. */
export const SCHEDULE_PERIOD_MS = 60_000;

/** An explicit invocation (the local stack, an operator); anything else is the schedule's event. */
export interface ConvergenceInvocation {
  /** Rounds to run, one convergence interval apart, with no sweeps in between. */
  rounds?: number;
  /** Only delete expired nodes. */
  sweepOnly?: boolean;
}

export interface RoundReport {
  sweptExpired?: number;
  lrps?: LRPConvergenceReport;
  tasks?: TaskConvergenceReport;
}

export interface PlannedStep {
  atMs: number;
  kind: "round" | "sweep";
}

/**
 * What one scheduled invocation does, as offsets from its start: a round every interval within the
 * period, and sweeps every sweep interval between them, up to one sweep interval before the period ends.
 */
export function invocationPlan(intervalMs: number, sweepIntervalMs: number, periodMs: number = SCHEDULE_PERIOD_MS): PlannedStep[] {
  const steps: PlannedStep[] = [];
  const roundEvery = intervalMs > 0 ? intervalMs : periodMs;
  for (let at = 0; at < periodMs; at += roundEvery) steps.push({ atMs: at, kind: "round" });
  if (sweepIntervalMs > 0) {
    for (let at = sweepIntervalMs; at < periodMs - sweepIntervalMs; at += sweepIntervalMs) {
      if (at % roundEvery !== 0) steps.push({ atMs: at, kind: "sweep" });
    }
  }
  return steps.sort((a, b) => a.atMs - b.atMs);
}

async function sweep(ctx: BBSContext): Promise<number | undefined> {
  try {
    return await ctx.store.sweepExpired();
  } catch (error) {
    ctx.logger.error("expiry-sweep-failed", error);
    return undefined;
  }
}

/**
 * Sweep, then both passes at once, as the converger called both endpoints in parallel. A failed pass
 * is logged (by the pass) and does not stop the other.
 */
export async function convergenceRound(ctx: BBSContext): Promise<RoundReport> {
  const sweptExpired = await sweep(ctx);
  const [lrps, tasks] = await Promise.allSettled([convergeLRPs(ctx), convergeTasks(ctx)]);
  return {
    sweptExpired,
    lrps: lrps.status === "fulfilled" ? lrps.value : undefined,
    tasks: tasks.status === "fulfilled" ? tasks.value : undefined,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isInvocation(event: unknown): event is ConvergenceInvocation {
  return typeof event === "object" && event !== null && ("rounds" in event || "sweepOnly" in event);
}

export async function handler(event?: unknown, context?: Pick<Context, "getRemainingTimeInMillis">): Promise<{ rounds: RoundReport[]; sweeps: number }> {
  const { ctx, config } = bbsContext();
  const result = { rounds: [] as RoundReport[], sweeps: 0 };
  if (isInvocation(event) && event.sweepOnly) {
    await sweep(ctx);
    result.sweeps++;
    return result;
  }
  const steps: PlannedStep[] = isInvocation(event)
    ? Array.from({ length: Math.max(1, event.rounds ?? 1) }, (_, i) => ({ atMs: i * config.convergenceIntervalMs, kind: "round" as const }))
    : invocationPlan(config.convergenceIntervalMs, config.expirySweepIntervalMs);
  const margin = config.expirySweepIntervalMs;
  const start = performance.now();
  for (const [i, step] of steps.entries()) {
    const wait = step.atMs - (performance.now() - start);
    if (wait > 0) await sleep(wait);
    // A round that overran makes the sweeps it crossed due at once; one of them is enough.
    const next = steps[i + 1];
    if (step.kind === "sweep" && next && next.atMs <= performance.now() - start) continue;
    if (context && context.getRemainingTimeInMillis() < margin) break;
    if (step.kind === "round") result.rounds.push(await convergenceRound(ctx));
    else {
      await sweep(ctx);
      result.sweeps++;
    }
  }
  return result;
}
