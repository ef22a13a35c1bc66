// The task lifecycle over HTTP against the local stack, with recording servers standing in for the
// auctioneer, the cell's rep and the completion callback URL. Callbacks travel the same path as on
// AWS: the store's change stream, read by the stream poller and fed to the stream consumer handler.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LocalStack } from "../../infra/local/stack";
import { post, send } from "../support/http-client";
import { startTestBBS } from "../support/local-bbs";
import { concat, errorOf, first, hex, num, pb, readFields, str, sub } from "../support/proto-wire";
import { startRecorder, type RecordedRequest, type Recorder } from "../support/recorder";

let bbs: LocalStack;
let auctioneer: Recorder;
let rep: Recorder;
let callbacks: Recorder;

const CELL = "cell-a";

beforeAll(async () => {
  [auctioneer, rep, callbacks] = await Promise.all([startRecorder(), startRecorder(), startRecorder()]);
  bbs = await startTestBBS({ auctioneerURL: auctioneer.url });
  const presence = pb.message(1, pb.string(1, CELL), pb.string(2, rep.url), pb.string(3, "z1"));
  const upserted = await post(bbs.url, "/v1/cells/upsert", concat(presence, pb.varint(2, 3600)));
  expect(errorOf(upserted.body)).toBeUndefined();
});

afterAll(async () => {
  await bbs?.stop();
  await Promise.all([auctioneer?.close(), rep?.close(), callbacks?.close()]);
});

beforeEach(() => {
  rep.requests.length = 0;
  rep.respondWith(202);
  callbacks.respondWith(200);
});

// Action { run_action = 3 { path = 1, user = 6 } }
const runAction = pb.message(3, pb.string(1, "/bin/true"), pb.string(6, "vcap"));
let counter = 0;
const freshGuid = (prefix: string) => `${prefix}-${++counter}`;

function desire(guid: string, options: { callbackURL?: string; annotation?: string } = {}) {
  const definition = pb.message(
    1,
    pb.string(1, "docker:///busybox"),
    pb.message(3, runAction),
    pb.string(12, options.callbackURL ?? ""),
    pb.string(13, options.annotation ?? ""),
  );
  return post(bbs.url, "/v1/tasks/desire", concat(definition, pb.string(2, guid), pb.string(3, "tasks-e2e")));
}

const start = (guid: string, cell = CELL) => post(bbs.url, "/v1/tasks/start", concat(pb.string(1, guid), pb.string(2, cell)));
const cancel = (guid: string) => post(bbs.url, "/v1/tasks/cancel", pb.string(1, guid));
const fail = (guid: string, reason: string) => post(bbs.url, "/v1/tasks/fail", concat(pb.string(1, guid), pb.string(2, reason)));
const complete = (guid: string, outcome: { cell?: string; failed?: boolean; reason?: string; result?: string } = {}) =>
  post(
    bbs.url,
    "/v1/tasks/complete",
    concat(
      pb.string(1, guid),
      pb.string(2, outcome.cell ?? CELL),
      pb.varint(3, outcome.failed ?? false),
      pb.string(4, outcome.reason ?? ""),
      pb.string(5, outcome.result ?? ""),
    ),
  );
const resolving = (guid: string) => post(bbs.url, "/v1/tasks/resolving", pb.string(1, guid));
const remove = (guid: string) => post(bbs.url, "/v1/tasks/delete", pb.string(1, guid));

const stateNames = ["Invalid", "Pending", "Running", "Completed", "Resolving"];

/** The stored task's fields of interest, or "missing". */
async function getTask(guid: string) {
  const response = await send(`${bbs.url}/v1/tasks/get_by_task_guid`, "GET", pb.string(1, guid));
  const error = errorOf(response.body);
  if (error?.type === "ResourceNotFound") return "missing" as const;
  if (error) throw new Error(`${error.type}: ${error.message}`);
  const task = sub(first(readFields(response.body), 2));
  return {
    state: stateNames[Number(num(first(task, 7)) ?? 0n)],
    cellId: str(first(task, 8)) ?? "",
    result: str(first(task, 9)) ?? "",
    failed: num(first(task, 10)) === 1n,
    failureReason: str(first(task, 11)) ?? "",
  };
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const callbackPath = (guid: string) => `/callbacks/${guid}`;
const callbacksFor = (guid: string): RecordedRequest[] => callbacks.requests.filter((r) => r.path === callbackPath(guid));
const waitForCallbacks = (guid: string, count: number) =>
  eventually(async () => callbacksFor(guid), (found) => found.length >= count);
const gone = (guid: string) => eventually(() => getTask(guid), (task) => task === "missing");

type Seed = "Pending" | "Running" | "Completed" | "Resolving";

/** A task without a callback URL, brought to `state` over the API; Running is on cell-a. */
async function seed(state: Seed): Promise<string> {
  const guid = freshGuid(`e2e-${state.toLowerCase()}`);
  expect(errorOf((await desire(guid)).body)).toBeUndefined();
  if (state === "Pending") return guid;
  expect(errorOf((await start(guid)).body)).toBeUndefined();
  if (state === "Running") return guid;
  expect(errorOf((await complete(guid, { result: "r" })).body)).toBeUndefined();
  if (state === "Completed") return guid;
  expect(errorOf((await resolving(guid)).body)).toBeUndefined();
  return guid;
}

const iste = (from: string, to: string) => ({ type: "InvalidStateTransition", message: `Cannot transition from ${from} to ${to}` });

describe("the happy path", () => {
  it("desire → start → complete → callback received → task gone", async () => {
    const guid = freshGuid("happy");
    expect(errorOf((await desire(guid, { callbackURL: `${callbacks.url}${callbackPath(guid)}`, annotation: "note" })).body)).toBeUndefined();
    expect(await getTask(guid)).toMatchObject({ state: "Pending" });

    const started = await start(guid);
    expect(started.status).toBe(200);
    expect(hex(started.body)).toBe("1001");
    expect(await getTask(guid)).toMatchObject({ state: "Running", cellId: CELL });
    // The rep asking again (after a restart, say) is told not to start it twice.
    expect(hex((await start(guid)).body)).toBe("1000");

    const completed = await complete(guid, { result: "the result" });
    expect(completed.status).toBe(200);
    expect(completed.body.length).toBe(0);

    const [callback] = await waitForCallbacks(guid, 1);
    expect(callback?.method).toBe("POST");
    expect(callback?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(callback?.body ?? "")).toEqual({ task_guid: guid, failed: false, failure_reason: "", result: "the result", annotation: "note" });
    await gone(guid);
    expect(callbacksFor(guid)).toHaveLength(1);
  });

  it("delivers the callback of a failed and of a cancelled task too", async () => {
    const failed = freshGuid("failed-cb");
    await desire(failed, { callbackURL: `${callbacks.url}${callbackPath(failed)}` });
    expect(errorOf((await fail(failed, "insufficient resources")).body)).toBeUndefined();
    const cancelled = freshGuid("cancelled-cb");
    await desire(cancelled, { callbackURL: `${callbacks.url}${callbackPath(cancelled)}` });
    await start(cancelled);
    expect(errorOf((await cancel(cancelled)).body)).toBeUndefined();

    const [failedCallback] = await waitForCallbacks(failed, 1);
    expect(JSON.parse(failedCallback?.body ?? "")).toEqual({ task_guid: failed, failed: true, failure_reason: "insufficient resources", result: "" });
    const [cancelledCallback] = await waitForCallbacks(cancelled, 1);
    expect(JSON.parse(cancelledCallback?.body ?? "")).toMatchObject({ task_guid: cancelled, failed: true, failure_reason: "task was cancelled" });
    await gone(failed);
    await gone(cancelled);
  });

  it("leaves a task without a callback URL Completed until the client resolves and deletes it", async () => {
    const guid = await seed("Completed");
    await new Promise((r) => setTimeout(r, 300));
    expect(await getTask(guid)).toMatchObject({ state: "Completed", result: "r", cellId: "" });
    expect(errorOf((await resolving(guid)).body)).toBeUndefined();
    expect(await getTask(guid)).toMatchObject({ state: "Resolving" });
    expect(errorOf((await remove(guid)).body)).toBeUndefined();
    expect(await getTask(guid)).toBe("missing");
  });
});

describe("invalid transitions", () => {
  const notFound = { type: "ResourceNotFound", message: "the requested resource could not be found" };

  it("answers every refused operation with the original's error and text", async () => {
    const cases: [string, Seed | "missing", (guid: string) => Promise<{ body: Uint8Array }>, { type: string; message: string }][] = [
      ["start", "Running", (g) => start(g, "cell-b"), iste("Running", "Running")],
      ["start", "Completed", (g) => start(g), iste("Completed", "Running")],
      ["start", "Resolving", (g) => start(g), iste("Resolving", "Running")],
      ["cancel", "Completed", cancel, iste("Completed", "Completed")],
      ["cancel", "Resolving", cancel, iste("Resolving", "Completed")],
      ["fail", "Completed", (g) => fail(g, "x"), iste("Completed", "Completed")],
      ["fail", "Resolving", (g) => fail(g, "x"), iste("Resolving", "Completed")],
      ["complete", "Pending", (g) => complete(g), iste("Pending", "Completed")],
      ["complete", "Running", (g) => complete(g, { cell: "cell-b" }), { type: "RunningOnDifferentCell", message: "Running on cell cell-a not cell-b" }],
      ["complete", "Completed", (g) => complete(g), iste("Completed", "Completed")],
      ["complete", "Resolving", (g) => complete(g), iste("Resolving", "Completed")],
      ["resolving", "Pending", resolving, iste("Pending", "Resolving")],
      ["resolving", "Running", resolving, iste("Running", "Resolving")],
      ["resolving", "Resolving", resolving, iste("Resolving", "Resolving")],
      ["delete", "Pending", remove, iste("Pending", "Resolving")],
      ["delete", "Running", remove, iste("Running", "Resolving")],
      ["delete", "Completed", remove, iste("Completed", "Resolving")],
      ["start", "missing", (g) => start(g), notFound],
      ["cancel", "missing", cancel, notFound],
      ["fail", "missing", (g) => fail(g, "x"), notFound],
      ["complete", "missing", (g) => complete(g), notFound],
      ["resolving", "missing", resolving, notFound],
      ["delete", "missing", remove, notFound],
    ];
    for (const [op, state, call, expected] of cases) {
      const guid = state === "missing" ? freshGuid("nobody") : await seed(state);
      const before = await getTask(guid);
      const response = await call(guid);
      expect({ op, state, error: errorOf(response.body) }).toEqual({ op, state, error: expected });
      expect(await getTask(guid)).toEqual(before);
    }
  });

  it("refuses requests that fail validation before touching the store", async () => {
    expect(errorOf((await start("", CELL)).body)).toEqual({ type: "InvalidRequest", message: "Invalid field: task_guid" });
    expect(errorOf((await complete(freshGuid("v"), { cell: "" })).body)).toEqual({ type: "InvalidRequest", message: "Invalid field: cell_id" });
    expect(errorOf((await fail(freshGuid("v"), "")).body)).toEqual({ type: "InvalidRequest", message: "Invalid field: failure_reason" });
  });
});

describe("cancel", () => {
  it("completes a running task as cancelled and asks its cell's rep to cancel it", async () => {
    const guid = await seed("Running");
    const response = await cancel(guid);
    expect(errorOf(response.body)).toBeUndefined();
    expect(rep.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /v1/tasks/${guid}/cancel`]);
    expect(await getTask(guid)).toMatchObject({ state: "Completed", failed: true, failureReason: "task was cancelled", cellId: "" });
  });

  it("succeeds even when the rep refuses, and calls no rep for a Pending task", async () => {
    rep.respondWith(500);
    const running = await seed("Running");
    expect(errorOf((await cancel(running)).body)).toBeUndefined();
    expect(rep.requests).toHaveLength(1);
    expect(await getTask(running)).toMatchObject({ state: "Completed", failureReason: "task was cancelled" });

    const pending = await seed("Pending");
    expect(errorOf((await cancel(pending)).body)).toBeUndefined();
    expect(rep.requests).toHaveLength(1);
    expect(await getTask(pending)).toMatchObject({ state: "Completed", failed: true, failureReason: "task was cancelled" });
  });
});

describe("callback delivery", () => {
  async function completeWithCallback(guid: string): Promise<void> {
    await desire(guid, { callbackURL: `${callbacks.url}${callbackPath(guid)}` });
    await start(guid);
    expect(errorOf((await complete(guid, { result: "ok" })).body)).toBeUndefined();
  }

  it("retries 503 and 504, deleting the task once the URL answers", async () => {
    const guid = freshGuid("retry-then-ok");
    const statuses = [503, 504, 200];
    callbacks.respondWith(() => statuses[callbacksFor(guid).length - 1] ?? 200);
    await completeWithCallback(guid);
    await waitForCallbacks(guid, 3);
    await gone(guid);
    expect(callbacksFor(guid)).toHaveLength(3);
  });

  it("gives up after 3 answers of 503, leaving the task Resolving for convergence", async () => {
    callbacks.respondWith(503);
    const guid = freshGuid("always-503");
    await completeWithCallback(guid);
    await waitForCallbacks(guid, 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(callbacksFor(guid)).toHaveLength(3);
    expect(await getTask(guid)).toMatchObject({ state: "Resolving", result: "ok" });
  });

  it("does not retry a 500: the task is resolved and deleted after one attempt", async () => {
    callbacks.respondWith(500);
    const guid = freshGuid("answer-500");
    await completeWithCallback(guid);
    await waitForCallbacks(guid, 1);
    await gone(guid);
    await new Promise((r) => setTimeout(r, 300));
    expect(callbacksFor(guid)).toHaveLength(1);
  });

  // Last in the file: the 5 s answer holds the stream consumer, as it would hold a Lambda shard.
  it("answers tasks/complete before the callback server has answered a slow (5 s) callback", async () => {
    let answered = false;
    callbacks.respondWith(() => {
      answered = true;
      return 200;
    }, 5_000);
    const guid = freshGuid("slow-callback");
    await desire(guid, { callbackURL: `${callbacks.url}${callbackPath(guid)}` });
    await start(guid);

    const completed = await complete(guid, { result: "slow" });
    const answeredWhenCompleteReturned = answered;
    expect(errorOf(completed.body)).toBeUndefined();
    expect(answeredWhenCompleteReturned).toBe(false);

    // The callback is in flight meanwhile: received, unanswered, and the task held Resolving.
    await waitForCallbacks(guid, 1);
    expect(answered).toBe(false);
    expect(await getTask(guid)).toMatchObject({ state: "Resolving" });

    await eventually(() => getTask(guid), (task) => task === "missing", 15_000);
    expect(answered).toBe(true);
  });
});
