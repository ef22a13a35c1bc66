// Listing everything (ActualLRPGroups, DesiredLRPs, Tasks) through the handler, side by side with the
// bare strongly consistent read of the same items, alternating so both see the same machine.
import { actualLRPGroupList } from "../../core/actual-lrps";
import type { BBSContext } from "../../core/context";
import { desiredLRPList } from "../../core/desired-lrps";
import { ActualLRPGroupsResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { DesiredLRPsResponseSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import { TasksResponseSchema } from "../../core/gen/models/task_requests_pb";
import { encodeListResponse } from "../../core/models/codec";
import { ActualLRPRoot, DesiredLRPRoot, TaskRoot } from "../../core/store/keys";
import { taskList } from "../../core/tasks";
import { bareRead, invokeRaw, log, median, timed, type BenchContext } from "./harness";

export interface ListingResult {
  resource: "actual_lrp_groups" | "desired_lrps" | "tasks";
  items: number;
  handlerMs: number;
  coreMs: number;
  bareMs: number;
  /** handler / bare read: the goal is ≤ 1.3 at 50k. */
  ratio: number;
  coreRatio: number;
  responseBytes: number;
  /** DynamoDB calls of one handler invocation, and the pages the bare read needed. */
  calls: Record<string, number>;
  barePages: number;
  samples: { handlerMs: number[]; coreMs: number[]; bareMs: number[] };
}

/** What the handler does below middy and base64: list the records and write the protobuf response. */
const resources = [
  {
    resource: "actual_lrp_groups",
    route: "ActualLRPGroups",
    root: ActualLRPRoot,
    core: async (ctx: BBSContext) => {
      const list = await actualLRPGroupList(ctx);
      return { count: list.length, bytes: encodeListResponse(ActualLRPGroupsResponseSchema, "actualLrpGroups", list.encoded()).length };
    },
  },
  {
    resource: "desired_lrps",
    route: "DesiredLRPs",
    root: DesiredLRPRoot,
    core: async (ctx: BBSContext) => {
      const list = await desiredLRPList(ctx);
      return { count: list.length, bytes: encodeListResponse(DesiredLRPsResponseSchema, "desiredLrps", list.encoded()).length };
    },
  },
  {
    resource: "tasks",
    route: "Tasks",
    root: TaskRoot,
    core: async (ctx: BBSContext) => {
      const list = await taskList(ctx);
      return { count: list.length, bytes: encodeListResponse(TasksResponseSchema, "tasks", list.encoded()).length };
    },
  },
] as const;

export async function measureListings(bench: BenchContext, expected: number, rounds: number): Promise<ListingResult[]> {
  const out: ListingResult[] = [];
  for (const r of resources) {
    const client = bench.store.client;
    // Warm-up: JIT, sockets, and DynamoDB Local, which reads slowly for a while after a bulk load.
    await bareRead(client, bench.tableName, [r.root]);
    await bareRead(client, bench.tableName, [r.root]);
    const warm = await bareRead(client, bench.tableName, [r.root]);
    if (warm.items !== expected) throw new Error(`${r.resource}: expected ${expected} items, the bare read found ${warm.items}`);
    const tracked = await bench.counting.track(() => invokeRaw(r.route, {}));
    const handlerMs: number[] = [];
    const coreMs: number[] = [];
    const bareMs: number[] = [];
    let barePages = 0;
    for (let round = 0; round < rounds; round++) {
      const bare = await timed(() => bareRead(client, bench.tableName, [r.root]));
      bareMs.push(bare.ms);
      barePages = bare.result.pages;
      handlerMs.push((await timed(() => invokeRaw(r.route, {}))).ms);
      const core = await timed(() => r.core(bench.ctx));
      if (core.result.count !== expected) throw new Error(`${r.resource}: listed ${core.result.count}, expected ${expected}`);
      coreMs.push(core.ms);
    }
    const result: ListingResult = {
      resource: r.resource,
      items: expected,
      handlerMs: median(handlerMs),
      coreMs: median(coreMs),
      bareMs: median(bareMs),
      ratio: median(handlerMs) / median(bareMs),
      coreRatio: median(coreMs) / median(bareMs),
      responseBytes: tracked.result,
      calls: tracked.calls.summary(),
      barePages,
      samples: { handlerMs, coreMs, bareMs },
    };
    log(
      `list ${r.resource} @${expected}: handler ${result.handlerMs.toFixed(0)} ms, core ${result.coreMs.toFixed(0)} ms, bare ${result.bareMs.toFixed(0)} ms → ${result.ratio.toFixed(2)} (${(result.responseBytes / 1e6).toFixed(1)} MB)`,
    );
    out.push(result);
  }
  return out;
}
