// The task lifecycle and the completion-callback worker, run against a real DynamoDB Local table with
// a manual clock: every cell of the lifecycle table of semantics §5, lost races, and the callback
// worker under redelivery.
import { create } from "@bufbuild/protobuf";
import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/clock";
import { postJSON } from "../../core/collaborators/http";
import type { BBSContext } from "../../core/context";
import { upsertCellPresence } from "../../core/cells";
import { ActionSchema, RunActionSchema } from "../../core/gen/models/actions_pb";
import { CellPresenceSchema } from "../../core/gen/models/cell_presence_pb";
import { TaskDefinitionSchema, Task_State, type Task } from "../../core/gen/models/task_pb";
import type { LogData, Logger } from "../../core/logger";
import { BbsError } from "../../core/models/errors";
import { storeChangeReactors } from "../../core/store-change-reactors";
import { taskKey } from "../../core/store/keys";
import type { Store, StoreChange } from "../../core/store/store";
import { handleCompletedTask, taskCallbackReactor, taskCallbacks, type CallbackPoster } from "../../core/task-callbacks";
import {
  cancelTask,
  completeTask,
  decodeTask,
  deleteTask,
  desireTask,
  encodeTask,
  failTask,
  readTask,
  resolvingTask,
  startTask,
  taskByGuid,
  taskWriteOptions,
} from "../../core/tasks";
import { freshStore } from "../support/dynamo";
import { startRecorder, type Recorder } from "../support/recorder";

const { Pending, Running, Completed, Resolving } = Task_State;
const ms = 1_000_000n;

interface LogLine {
  level: string;
  message: string;
  data?: LogData;
  error?: unknown;
}

function capturingLogger(lines: LogLine[], base: LogData = {}): Logger {
  return {
    debug: (message, data) => lines.push({ level: "debug", message, data: { ...base, ...data } }),
    info: (message, data) => lines.push({ level: "info", message, data: { ...base, ...data } }),
    error: (message, error, data) => lines.push({ level: "error", message, error, data: { ...base, ...data } }),
    with: (data) => capturingLogger(lines, { ...base, ...data }),
  };
}

let store: Store;
let clock: ManualClock;
let ctx: BBSContext;
let logs: LogLine[];
let auctions: string[][];
let repCalls: { repAddress: string; taskGuid: string }[];
let repFails: boolean;
let callbackServer: Recorder;

beforeAll(async () => {
  clock = new ManualClock();
  store = (await freshStore({ clock })).store;
  callbackServer = await startRecorder();
});

afterAll(async () => {
  await callbackServer?.close();
});

beforeEach(() => {
  logs = [];
  auctions = [];
  repCalls = [];
  repFails = false;
  callbackServer.requests.length = 0;
  callbackServer.respondWith(200);
  ctx = {
    store,
    clock,
    logger: capturingLogger(logs),
    auctioneer: {
      async requestLRPAuctions() {},
      async requestTaskAuctions(tasks) {
        auctions.push(tasks.map((t) => t.taskGuid));
      },
    },
    reps: {
      async stopLRPInstance() {},
      async cancelTask(repAddress, taskGuid) {
        repCalls.push({ repAddress, taskGuid });
        if (repFails) throw new Error("rep answered 500");
      },
    },
    communicationTimeoutMs: 2_000,
  };
});

let counter = 0;
const freshGuid = (prefix: string) => `${prefix}-${++counter}`;

function definition(callbackURL = "", annotation = "") {
  return create(TaskDefinitionSchema, {
    rootFs: "docker:///busybox",
    action: create(ActionSchema, { runAction: create(RunActionSchema, { path: "/bin/true", user: "vcap" }) }),
    completionCallbackUrl: callbackURL,
    annotation,
  });
}

type Seed = "missing" | "Pending" | "Running" | "Completed" | "Resolving";

/** A task brought to `state` through the lifecycle operations themselves; Running is on cell-a. */
async function seed(state: Seed, callbackURL = ""): Promise<string> {
  const guid = freshGuid(`task-${state.toLowerCase()}`);
  if (state === "missing") return guid;
  await desireTask(ctx, guid, "tasks", definition(callbackURL, "a note"));
  if (state === "Pending") return guid;
  await startTask(ctx, guid, "cell-a");
  if (state === "Running") return guid;
  await completeTask(ctx, guid, "cell-a", { failed: false, failureReason: "", result: "42" });
  if (state === "Completed") return guid;
  await resolvingTask(ctx, guid);
  return guid;
}

async function bbsError(promise: Promise<unknown>): Promise<{ type: string; message: string } | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (!(error instanceof BbsError)) throw error;
    return { type: error.type, message: error.message };
  }
}

const iste = (from: string, to: string) => ({ type: "InvalidStateTransition", message: `Cannot transition from ${from} to ${to}` });
const notFound = { type: "ResourceNotFound", message: "the requested resource could not be found" };
const conflict = { type: "ResourceConflict", message: "the requested resource is in a conflicting state" };

async function stored(guid: string): Promise<Task | undefined> {
  try {
    return await taskByGuid(ctx, guid);
  } catch (error) {
    if (error instanceof BbsError && error.type === "ResourceNotFound") return undefined;
    throw error;
  }
}

/** The change the stream would deliver for the task's current record. */
async function changeFor(guid: string, sequence = "1"): Promise<StoreChange> {
  const node = await store.get(taskKey(guid));
  return { key: node.key, after: node, expired: false, sequence };
}

/** A store whose first read of `key` lets `interfere` write before the caller gets the node back. */
function racing(inner: Store, interfere: () => Promise<void>): Store {
  let armed = true;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "get") {
        return async (key: string) => {
          const node = await target.get(key);
          if (armed) {
            armed = false;
            await interfere();
          }
          return node;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("the task lifecycle table (semantics §5)", () => {
  it("Desire: creates a Pending task once, stamped now in ns, and auctions it", async () => {
    const guid = freshGuid("desire");
    await desireTask(ctx, guid, "tasks", definition());
    const task = await taskByGuid(ctx, guid);
    expect(task).toMatchObject({ state: Pending, createdAt: clock.nowNs(), updatedAt: clock.nowNs(), cellId: "" });
    expect(auctions).toEqual([[guid]]);
    for (const state of ["Pending", "Running", "Completed", "Resolving"] as const) {
      const existing = await seed(state);
      expect(await bbsError(desireTask(ctx, existing, "tasks", definition()))).toEqual({
        type: "ResourceExists",
        message: "the requested resource already exists",
      });
    }
  });

  describe("Start", () => {
    it("moves Pending to Running on the cell and answers should_start true", async () => {
      const guid = await seed("Pending");
      clock.advance(1000);
      expect(await startTask(ctx, guid, "cell-b")).toBe(true);
      expect(await taskByGuid(ctx, guid)).toMatchObject({ state: Running, cellId: "cell-b", updatedAt: clock.nowNs() });
    });

    it("answers false without writing when the same cell already runs it", async () => {
      const guid = await seed("Running");
      const before = await store.get(taskKey(guid));
      clock.advance(1000);
      expect(await startTask(ctx, guid, "cell-a")).toBe(false);
      expect((await store.get(taskKey(guid))).version).toBe(before.version);
    });

    it("refuses every other state", async () => {
      expect(await bbsError(startTask(ctx, await seed("missing"), "cell-a"))).toEqual(notFound);
      expect(await bbsError(startTask(ctx, await seed("Running"), "cell-b"))).toEqual(iste("Running", "Running"));
      expect(await bbsError(startTask(ctx, await seed("Completed"), "cell-a"))).toEqual(iste("Completed", "Running"));
      expect(await bbsError(startTask(ctx, await seed("Resolving"), "cell-a"))).toEqual(iste("Resolving", "Running"));
    });
  });

  describe("Cancel", () => {
    beforeEach(async () => {
      await upsertCellPresence(ctx, create(CellPresenceSchema, { cellId: "cell-a", repAddress: "http://rep-a:1800", zone: "z1" }), 3600);
    });

    it("completes a Pending task as cancelled without calling any rep", async () => {
      const guid = await seed("Pending");
      clock.advance(1000);
      await cancelTask(ctx, guid);
      expect(await taskByGuid(ctx, guid)).toMatchObject({
        state: Completed,
        failed: true,
        failureReason: "task was cancelled",
        cellId: "",
        updatedAt: clock.nowNs(),
        firstCompletedAt: clock.nowNs(),
      });
      expect(repCalls).toEqual([]);
    });

    it("completes a Running task as cancelled, then asks its cell's rep to cancel it", async () => {
      const guid = await seed("Running");
      await cancelTask(ctx, guid);
      expect(await taskByGuid(ctx, guid)).toMatchObject({ state: Completed, failed: true, failureReason: "task was cancelled", cellId: "" });
      expect(repCalls).toEqual([{ repAddress: "http://rep-a:1800", taskGuid: guid }]);
    });

    it("succeeds and logs when the rep fails or the cell is gone", async () => {
      const guid = await seed("Running");
      repFails = true;
      expect(await bbsError(cancelTask(ctx, guid))).toBeUndefined();
      expect(logs.some((l) => l.level === "error" && l.message === "failed-cancelling-task-on-rep")).toBe(true);

      const elsewhere = await seed("Pending");
      await startTask(ctx, elsewhere, "cell-gone");
      expect(await bbsError(cancelTask(ctx, elsewhere))).toBeUndefined();
      expect((await taskByGuid(ctx, elsewhere)).state).toBe(Completed);
      expect(logs.some((l) => l.level === "error" && l.message === "failed-fetching-cell-presence" && l.data?.cell_id === "cell-gone")).toBe(true);
    });

    it("refuses missing, Completed and Resolving tasks", async () => {
      expect(await bbsError(cancelTask(ctx, await seed("missing")))).toEqual(notFound);
      expect(await bbsError(cancelTask(ctx, await seed("Completed")))).toEqual(iste("Completed", "Completed"));
      expect(await bbsError(cancelTask(ctx, await seed("Resolving")))).toEqual(iste("Resolving", "Completed"));
      expect(repCalls).toEqual([]);
    });
  });

  describe("Fail", () => {
    it("completes Pending and Running tasks as failed, with no cell check and no rep call", async () => {
      for (const state of ["Pending", "Running"] as const) {
        const guid = await seed(state);
        clock.advance(1000);
        await failTask(ctx, guid, "no cells");
        expect(await taskByGuid(ctx, guid)).toMatchObject({
          state: Completed,
          failed: true,
          failureReason: "no cells",
          result: "",
          cellId: "",
          firstCompletedAt: clock.nowNs(),
        });
      }
      expect(repCalls).toEqual([]);
    });

    it("refuses missing, Completed and Resolving tasks", async () => {
      expect(await bbsError(failTask(ctx, await seed("missing"), "x"))).toEqual(notFound);
      expect(await bbsError(failTask(ctx, await seed("Completed"), "x"))).toEqual(iste("Completed", "Completed"));
      expect(await bbsError(failTask(ctx, await seed("Resolving"), "x"))).toEqual(iste("Resolving", "Completed"));
    });
  });

  describe("Complete", () => {
    it("completes a task on the cell running it with the given outcome, clearing the cell", async () => {
      const guid = await seed("Running");
      clock.advance(1000);
      await completeTask(ctx, guid, "cell-a", { failed: true, failureReason: "exit 1", result: "out" });
      expect(await taskByGuid(ctx, guid)).toMatchObject({
        state: Completed,
        failed: true,
        failureReason: "exit 1",
        result: "out",
        cellId: "",
        updatedAt: clock.nowNs(),
        firstCompletedAt: clock.nowNs(),
      });
    });

    it("refuses another cell with the actual cell named first, and every other state", async () => {
      expect(await bbsError(completeTask(ctx, await seed("Running"), "cell-b", { failed: false, failureReason: "", result: "" }))).toEqual({
        type: "RunningOnDifferentCell",
        message: "Running on cell cell-a not cell-b",
      });
      const outcome = { failed: false, failureReason: "", result: "" };
      expect(await bbsError(completeTask(ctx, await seed("missing"), "cell-a", outcome))).toEqual(notFound);
      expect(await bbsError(completeTask(ctx, await seed("Pending"), "cell-a", outcome))).toEqual(iste("Pending", "Completed"));
      expect(await bbsError(completeTask(ctx, await seed("Completed"), "cell-a", outcome))).toEqual(iste("Completed", "Completed"));
      expect(await bbsError(completeTask(ctx, await seed("Resolving"), "cell-a", outcome))).toEqual(iste("Resolving", "Completed"));
    });
  });

  describe("Resolving", () => {
    it("moves Completed to Resolving, stamping updated_at and keeping the outcome", async () => {
      const guid = await seed("Completed");
      const completed = await taskByGuid(ctx, guid);
      clock.advance(1000);
      await resolvingTask(ctx, guid);
      expect(await taskByGuid(ctx, guid)).toMatchObject({
        state: Resolving,
        updatedAt: clock.nowNs(),
        firstCompletedAt: completed.firstCompletedAt,
        result: "42",
      });
    });

    it("refuses every other state", async () => {
      expect(await bbsError(resolvingTask(ctx, await seed("missing")))).toEqual(notFound);
      expect(await bbsError(resolvingTask(ctx, await seed("Pending")))).toEqual(iste("Pending", "Resolving"));
      expect(await bbsError(resolvingTask(ctx, await seed("Running")))).toEqual(iste("Running", "Resolving"));
      expect(await bbsError(resolvingTask(ctx, await seed("Resolving")))).toEqual(iste("Resolving", "Resolving"));
    });
  });

  describe("Delete", () => {
    it("deletes a Resolving task", async () => {
      const guid = await seed("Resolving");
      await deleteTask(ctx, guid);
      expect(await stored(guid)).toBeUndefined();
    });

    it("refuses every other state, naming the transition to Resolving", async () => {
      expect(await bbsError(deleteTask(ctx, await seed("missing")))).toEqual(notFound);
      expect(await bbsError(deleteTask(ctx, await seed("Pending")))).toEqual(iste("Pending", "Resolving"));
      expect(await bbsError(deleteTask(ctx, await seed("Running")))).toEqual(iste("Running", "Resolving"));
      expect(await bbsError(deleteTask(ctx, await seed("Completed")))).toEqual(iste("Completed", "Resolving"));
    });
  });

  it("keeps the cell_id label in step, so listing by cell sees started tasks and not completed ones", async () => {
    const guid = await seed("Pending");
    await startTask(ctx, guid, "cell-label");
    expect((await store.get(taskKey(guid))).labels).toMatchObject({ domain: "tasks", cell_id: "cell-label" });
    await completeTask(ctx, guid, "cell-label", { failed: false, failureReason: "", result: "" });
    expect((await store.get(taskKey(guid))).labels).toMatchObject({ cell_id: "" });
  });
});

describe("lost races", () => {
  // Deliberate deviation: at 0344309c a lost task CAS surfaced as UnknownError (etcd 101 was not
  // mapped); it is ResourceConflict here, as in the original from ac2e50f7 on.
  it("reports a lost compare-and-swap as ResourceConflict, not the original's UnknownError", async () => {
    const guid = await seed("Pending");
    const loser: BBSContext = { ...ctx, store: racing(store, async () => void (await startTask(ctx, guid, "cell-b"))) };
    expect(await bbsError(startTask(loser, guid, "cell-a"))).toEqual(conflict);
    expect(await taskByGuid(ctx, guid)).toMatchObject({ state: Running, cellId: "cell-b" });
  });

  it("gives ResourceConflict to every read-then-write operation that loses", async () => {
    const touch = (guid: string) => async () => {
      const { node, task } = await readTask(ctx, guid);
      task.updatedAt += 1n;
      await store.compareAndSwap(taskKey(guid), encodeTask(task), node.version, taskWriteOptions(task));
    };
    const cases: [Seed, (c: BBSContext, guid: string) => Promise<unknown>][] = [
      ["Running", (c, g) => cancelTask(c, g)],
      ["Running", (c, g) => failTask(c, g, "x")],
      ["Running", (c, g) => completeTask(c, g, "cell-a", { failed: false, failureReason: "", result: "" })],
      ["Completed", (c, g) => resolvingTask(c, g)],
      ["Resolving", (c, g) => deleteTask(c, g)],
    ];
    for (const [state, op] of cases) {
      const guid = await seed(state);
      expect(await bbsError(op({ ...ctx, store: racing(store, touch(guid)) }, guid))).toEqual(conflict);
    }
  });

  it("answers ResourceNotFound when the task is deleted between the read and the write", async () => {
    const guid = await seed("Resolving");
    const loser: BBSContext = { ...ctx, store: racing(store, () => store.delete(taskKey(guid))) };
    expect(await bbsError(deleteTask(loser, guid))).toEqual(notFound);
  });
});

describe("the completion callback worker", () => {
  const poster = (calls: string[], answer: (attempt: number) => Promise<number>): CallbackPoster => async (url) => {
    calls.push(url);
    return answer(calls.length);
  };

  it("is registered with the store change reactors", () => {
    expect(storeChangeReactors).toContain(taskCallbacks);
  });

  it("claims the Completed task, POSTs its outcome as JSON and deletes it", async () => {
    const guid = await seed("Completed", `${callbackServer.url}/done`);
    await taskCallbacks.react(ctx, await changeFor(guid));
    const [request] = callbackServer.requests;
    expect(callbackServer.requests).toHaveLength(1);
    expect(request).toMatchObject({ method: "POST", path: "/done" });
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request?.body ?? "")).toEqual({ task_guid: guid, failed: false, failure_reason: "", result: "42", annotation: "a note" });
    expect(await stored(guid)).toBeUndefined();
  });

  it("is Resolving while the callback is in flight", async () => {
    const guid = await seed("Completed", "http://callback.invalid/");
    let seen: Task | undefined;
    const outcome = await handleCompletedTask(ctx, ...(await nodeAndTask(guid)), async () => {
      seen = await taskByGuid(ctx, guid);
      return 200;
    });
    expect(outcome).toBe("resolved");
    expect(seen?.state).toBe(Resolving);
  });

  it("ignores changes that are not a Completed task with a callback URL", async () => {
    const calls: string[] = [];
    const reactor = taskCallbackReactor(poster(calls, async () => 200));
    for (const state of ["Pending", "Running", "Resolving"] as const) await reactor.react(ctx, await changeFor(await seed(state, "http://cb.invalid/")));
    await reactor.react(ctx, await changeFor(await seed("Completed")));
    const removed = await seed("Resolving", "http://cb.invalid/");
    const before = await store.get(taskKey(removed));
    await deleteTask(ctx, removed);
    await reactor.react(ctx, { key: before.key, before, expired: false, sequence: "2" });
    const domain = await store.set("/v1/domain/x", new Uint8Array([1]));
    await reactor.react(ctx, { key: domain.key, after: domain, expired: false, sequence: "3" });
    expect(calls).toEqual([]);
  });

  it("does nothing on redelivery: one POST, and the task is deleted once", async () => {
    const guid = await seed("Completed", "http://cb.invalid/");
    const calls: string[] = [];
    const reactor = taskCallbackReactor(poster(calls, async () => 200));
    const change = await changeFor(guid);
    await reactor.react(ctx, change);
    await reactor.react(ctx, change);
    expect(calls).toHaveLength(1);
    expect(await stored(guid)).toBeUndefined();
  });

  it("never deletes a task it did not resolve when a stale change is redelivered", async () => {
    // The callback URL keeps answering 503: the task is left Resolving.
    const guid = await seed("Completed", "http://cb.invalid/");
    const calls: string[] = [];
    const change = await changeFor(guid);
    await taskCallbackReactor(poster(calls, async () => 503)).react(ctx, change);
    expect(calls).toHaveLength(3);
    expect((await taskByGuid(ctx, guid)).state).toBe(Resolving);

    // Redelivering the old Completed record must neither call back nor delete.
    await taskCallbackReactor(poster(calls, async () => 200)).react(ctx, change);
    expect(calls).toHaveLength(3);
    expect((await taskByGuid(ctx, guid)).state).toBe(Resolving);

    // Convergence demotes it to Completed by rewriting it; that change delivers the callback.
    const { node, task } = await readTask(ctx, guid);
    task.state = Completed;
    task.updatedAt = clock.nowNs() + 30_000n * ms;
    await store.compareAndSwap(taskKey(guid), encodeTask(task), node.version, taskWriteOptions(task));
    await taskCallbackReactor(poster(calls, async () => 200)).react(ctx, await changeFor(guid, "9"));
    expect(calls).toHaveLength(4);
    expect(await stored(guid)).toBeUndefined();
  });

  it("leaves alone a task a client moved to Resolving itself", async () => {
    const guid = await seed("Completed", "http://cb.invalid/");
    const change = await changeFor(guid);
    await resolvingTask(ctx, guid);
    const calls: string[] = [];
    await taskCallbackReactor(poster(calls, async () => 200)).react(ctx, change);
    expect(calls).toEqual([]);
    expect((await taskByGuid(ctx, guid)).state).toBe(Resolving);
  });

  it("re-runs on a Completed → Completed rewrite (a convergence kick) while still Completed", async () => {
    const guid = await seed("Completed", "http://cb.invalid/");
    const { node, task } = await readTask(ctx, guid);
    task.updatedAt += 1n;
    await store.compareAndSwap(taskKey(guid), encodeTask(task), node.version, taskWriteOptions(task));
    const calls: string[] = [];
    await taskCallbackReactor(poster(calls, async () => 204)).react(ctx, await changeFor(guid));
    expect(calls).toHaveLength(1);
    expect(await stored(guid)).toBeUndefined();
  });

  it("does not delete a task rewritten while its callback was in flight", async () => {
    const guid = await seed("Completed", "http://cb.invalid/");
    const outcome = await handleCompletedTask(ctx, ...(await nodeAndTask(guid)), async () => {
      const { node, task } = await readTask(ctx, guid);
      task.state = Completed;
      await store.compareAndSwap(taskKey(guid), encodeTask(task), node.version, taskWriteOptions(task));
      return 200;
    });
    expect(outcome).toBe("left-resolving");
    expect((await taskByGuid(ctx, guid)).state).toBe(Completed);
  });

  it("retries 503 and 504 (3 attempts in all), and treats any other status as delivered", async () => {
    const cases: [number[], number, "resolved" | "left-resolving"][] = [
      [[503, 503, 503], 3, "left-resolving"],
      [[504, 503, 504], 3, "left-resolving"],
      [[503, 200], 2, "resolved"],
      [[504, 500], 2, "resolved"],
      [[500], 1, "resolved"],
      [[404], 1, "resolved"],
      [[302], 1, "resolved"],
    ];
    for (const [statuses, attempts, outcome] of cases) {
      const guid = await seed("Completed", "http://cb.invalid/");
      const calls: string[] = [];
      const result = await handleCompletedTask(ctx, ...(await nodeAndTask(guid)), poster(calls, async (n) => statuses[n - 1] ?? 599));
      expect({ statuses, attempts: calls.length, result }).toEqual({ statuses, attempts, result: outcome });
      expect((await stored(guid))?.state).toBe(outcome === "resolved" ? undefined : Resolving);
    }
    expect(logs.filter((l) => l.level === "error" && l.message === "task-callback-failed")).toHaveLength(2);
  });

  it("retries a connection the server closed, but gives up at once on other transport errors", async () => {
    const closing = createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((r) => closing.listen(0, "127.0.0.1", () => r()));
    const port = (closing.address() as { port: number }).port;
    try {
      const realPost: CallbackPoster = (url, body, timeoutMs) => postJSON(url, body, { timeoutMs });
      const calls: string[] = [];
      const counting: CallbackPoster = (url, body, timeout) => (calls.push(url), realPost(url, body, timeout));

      const closed = await seed("Completed", `http://127.0.0.1:${port}/cb`);
      expect(await handleCompletedTask(ctx, ...(await nodeAndTask(closed)), counting)).toBe("left-resolving");
      expect(calls).toHaveLength(3);

      calls.length = 0;
      const refused = await seed("Completed", "http://127.0.0.1:1/cb");
      expect(await handleCompletedTask(ctx, ...(await nodeAndTask(refused)), counting)).toBe("left-resolving");
      expect(calls).toHaveLength(1);
      expect((await taskByGuid(ctx, refused)).state).toBe(Resolving);
      expect(logs.some((l) => l.level === "error" && l.message === "task-callback-request-failed" && l.data?.task_guid === refused)).toBe(true);
    } finally {
      closing.close();
    }
  });

  it("throws on a store failure while claiming, so the stream delivers the change again", async () => {
    const guid = await seed("Completed", "http://cb.invalid/");
    const failing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === "compareAndSwap") return async () => Promise.reject(new Error("ProvisionedThroughputExceededException"));
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const calls: string[] = [];
    await expect(taskCallbackReactor(poster(calls, async () => 200)).react({ ...ctx, store: failing }, await changeFor(guid))).rejects.toThrow(
      "ProvisionedThroughputExceededException",
    );
    expect(calls).toEqual([]);
    expect((await taskByGuid(ctx, guid)).state).toBe(Completed);
  });
});

async function nodeAndTask(guid: string) {
  const node = await store.get(taskKey(guid));
  return [node, decodeTask(node)] as const;
}
