// Completion callbacks (taskworkpool/taskcallback.go), driven by the store's change stream instead of
// an in-memory work pool: a task written Completed with a callback URL is claimed (Completed →
// Resolving), its result POSTed to the URL, and the task deleted once the URL has answered.
//
// Why the stream: the write to Completed is durable before the cell hears "ok", and the stream
// delivers it at least once to whichever process is alive, so a callback cannot be lost with the
// process that would have run it. What is left Resolving (the URL kept failing, or the worker died
// mid-callback) is demoted to Completed by task convergence after the kick duration; that rewrite
// is itself a change to Completed, so it brings the task back here.
import type { BBSContext } from "./context";
import type { Task } from "./gen/models/task_pb";
import { CollaboratorError, postJSON } from "./collaborators/http";
import { encodeTaskCallback } from "./models/go-json";
import { asResolving, awaitsCallback } from "./models/task-transitions";
import type { StoreChangeReactor } from "./store-change-reactors";
import { CompareFailedError, KeyNotFoundError } from "./store/errors";
import { parseKey, taskKey } from "./store/keys";
import type { StoreChange, StoreNode } from "./store/store";
import { decodeTask, encodeTask, taskWriteOptions } from "./tasks";

/** MAX_CB_RETRIES: attempts in all, counting the first. */
export const MaxCallbackAttempts = 3;

/** POSTs a JSON body and resolves with the status, whatever it is; rejects on transport failures. */
export type CallbackPoster = (url: string, body: string, timeoutMs: number) => Promise<number>;

const postCallback: CallbackPoster = (url, body, timeoutMs) => postJSON(url, body, { timeoutMs });

export type CallbackOutcome =
  /** Another worker (or a client calling tasks/resolving) got there first, or this change is stale. */
  | "not-claimed"
  /** The URL answered with a final status and the task was deleted (or was already gone). */
  | "resolved"
  /** The URL could not be reached, or kept answering 503/504: left Resolving for convergence. */
  | "left-resolving";

const isRetryableStatus = (status: number) => status === 503 || status === 504;

/**
 * The original retried only Go's "use of closed network connection": a pooled keep-alive connection
 * the server had already closed. Node reports that case as "other side closed" (undici) or "socket
 * hang up"; a reset, a refused connection, a DNS failure or a timeout is final, as it was there.
 */
export function isClosedConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof CollaboratorError && e.status !== undefined) return false;
    if (/closed network connection|other side closed|socket hang up/i.test(e.message)) return true;
  }
  return false;
}

/**
 * Runs the callback for `task`, read from `node` (normally a change's after-image). The claim is a
 * compare-and-swap on that node's version, so a redelivered or superseded change claims nothing, and
 * the final delete is on the version the claim wrote, so it never removes a task that someone else
 * has since moved on. Throws only when the store itself fails, so the change is delivered again.
 */
export async function handleCompletedTask(
  ctx: BBSContext,
  node: StoreNode,
  task: Task,
  post: CallbackPoster = postCallback,
): Promise<CallbackOutcome> {
  const url = task.taskDefinition?.completionCallbackUrl ?? "";
  const key = taskKey(task.taskGuid);
  const logger = ctx.logger.with({ task_guid: task.taskGuid, callback_url: url });

  let claimed: StoreNode;
  try {
    const resolving = asResolving(task, ctx.clock.nowNs());
    claimed = await ctx.store.compareAndSwap(key, encodeTask(resolving), node.version, taskWriteOptions(resolving));
  } catch (error) {
    if (error instanceof CompareFailedError || error instanceof KeyNotFoundError) {
      logger.debug("task-callback-not-claimed", { version: node.version });
      return "not-claimed";
    }
    throw error;
  }

  const body = encodeTaskCallback(task);
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= MaxCallbackAttempts; attempt++) {
    let status: number;
    try {
      status = await post(url, body, ctx.communicationTimeoutMs);
    } catch (error) {
      if (isClosedConnectionError(error)) {
        logger.info("task-callback-connection-closed", { attempt });
        continue;
      }
      logger.error("task-callback-request-failed", error, { attempt });
      return "left-resolving";
    }
    lastStatus = status;
    if (isRetryableStatus(status)) {
      logger.info("task-callback-unavailable", { attempt, status_code: status });
      continue;
    }
    // Any other answer, 4xx and 500 included, means the URL has the result: the task is done.
    try {
      await ctx.store.compareAndDelete(key, claimed.version);
    } catch (error) {
      if (error instanceof KeyNotFoundError) return "resolved";
      // Someone moved the task on (CompareFailed), or the store failed: the callback was delivered,
      // and a task still Resolving is demoted and delivered again, which callback URLs must tolerate.
      logger.error("task-callback-delete-failed", error, { status_code: status });
      return "left-resolving";
    }
    logger.info("task-callback-delivered", { status_code: status });
    return "resolved";
  }
  logger.error("task-callback-failed", undefined, { attempts: MaxCallbackAttempts, status_code: lastStatus });
  return "left-resolving";
}

/** Fires on every write that leaves a task Completed with a callback URL, rewrites included. */
export function taskCallbackReactor(post: CallbackPoster = postCallback): StoreChangeReactor {
  return {
    name: "task-callbacks",
    async react(ctx: BBSContext, change: StoreChange) {
      const after = change.after;
      if (!after || parseKey(change.key).kind !== "task") return;
      let task: Task;
      try {
        task = decodeTask(after);
      } catch (error) {
        // Convergence deletes records that do not decode; retrying the change would not help.
        ctx.logger.error("task-callback-undecodable-task", error, { key: change.key });
        return;
      }
      if (!awaitsCallback(task)) return;
      await handleCompletedTask(ctx, after, task, post);
    },
  };
}

export const taskCallbacks: StoreChangeReactor = taskCallbackReactor();
