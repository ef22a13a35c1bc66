// Listing everything (ActualLRPGroups, DesiredLRPs, Tasks) through the handler, side by side with the
// bare strongly consistent read of the same items, alternating so both see the same machine.
import { actualLRPGroupList } from "../../core/actual-lrps";
import type { BBSContext } from "../../core/context";
import { desiredLRPList } from "../../core/desired-lrps";
import { ActualLRPGroupsResponseSchema } from "../../core/gen/models/actual_lrp_requests_pb";
import { DesiredLRPsResponseSchema } from "../../core/gen/models/desired_lrp_requests_pb";
import { TasksResponseSchema } from "../../core/gen/models/task_requests_pb";
import { ActualLRPRoot, DesiredLRPRoot, TaskRoot } from "../../core/store/keys";
import { taskList } from "../../core/tasks";
import { create } from "@bufbuild/protobuf";
import { ActualLRPGroupSchema, ActualLRPSchema, type ActualLRPGroup } from "../../core/gen/models/actual_lrp_pb";
import { DesiredLRPSchema } from "../../core/gen/models/desired_lrp_pb";
import { TaskSchema } from "../../core/gen/models/task_pb";
import { encodeListResponse, encodeMessage } from "../../core/models/codec";
import { decodeRecord } from "../../core/records";
import { parseKey } from "../../core/store/keys";
import { bareRead, invokeRaw, log, median, settle, timed, type BenchContext } from "./harness";

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
  /** The same list the way it was done before (decode everything, encode again), in this run; and / bare. */
  legacyCoreMs?: number;
  legacyRatio?: number;
  /** DynamoDB calls of one handler invocation, and the pages the bare read needed. */
  calls: Record<string, number>;
  barePages: number;
  samples: { handlerMs: number[]; coreMs: number[]; bareMs: number[] };
}

/**
 * The listing as it was before the stored bytes went into responses as they are: the whole root read
 * into memory (store.list), every record decoded, the response encoded again. Kept for the side-by-side
 * before/after figure.
 */
async function legacyList(ctx: BBSContext, root: string, kind: "actualLRP" | "desiredLRP" | "task"): Promise<number> {
  const nodes = await ctx.store.list(root, { recursive: true });
  if (kind === "actualLRP") {
    const groups = new Map<string, ActualLRPGroup>();
    for (const node of nodes) {
      const parsed = parseKey(node.key);
      if (parsed.kind !== "actualLRP") continue;
      const id = `${parsed.processGuid}/${parsed.index}`;
      const group = groups.get(id) ?? create(ActualLRPGroupSchema, {});
      groups.set(id, group);
      if (parsed.slot === "instance") group.instance = decodeRecord(ActualLRPSchema, node.value);
      else group.evacuating = decodeRecord(ActualLRPSchema, node.value);
    }
    const sorted = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
    return encodeMessage(ActualLRPGroupsResponseSchema, create(ActualLRPGroupsResponseSchema, { actualLrpGroups: sorted })).length;
  }
  if (kind === "desiredLRP") {
    const lrps = nodes.filter((n) => parseKey(n.key).kind === kind).map((n) => decodeRecord(DesiredLRPSchema, n.value));
    lrps.sort((a, b) => (a.processGuid < b.processGuid ? -1 : a.processGuid > b.processGuid ? 1 : 0));
    return encodeMessage(DesiredLRPsResponseSchema, create(DesiredLRPsResponseSchema, { desiredLrps: lrps })).length;
  }
  const tasks = nodes.filter((n) => parseKey(n.key).kind === kind).map((n) => decodeRecord(TaskSchema, n.value));
  tasks.sort((a, b) => (a.taskGuid < b.taskGuid ? -1 : a.taskGuid > b.taskGuid ? 1 : 0));
  return encodeMessage(TasksResponseSchema, create(TasksResponseSchema, { tasks })).length;
}

/** What the handler does below middy and base64: list the records and write the protobuf response. */
const resources = [
  {
    resource: "actual_lrp_groups",
    kind: "actualLRP",
    route: "ActualLRPGroups",
    root: ActualLRPRoot,
    core: async (ctx: BBSContext) => {
      const list = await actualLRPGroupList(ctx);
      return { count: list.length, bytes: encodeListResponse(ActualLRPGroupsResponseSchema, "actualLrpGroups", list.encoded()).length };
    },
  },
  {
    resource: "desired_lrps",
    kind: "desiredLRP",
    route: "DesiredLRPs",
    root: DesiredLRPRoot,
    core: async (ctx: BBSContext) => {
      const list = await desiredLRPList(ctx);
      return { count: list.length, bytes: encodeListResponse(DesiredLRPsResponseSchema, "desiredLrps", list.encoded()).length };
    },
  },
  {
    resource: "tasks",
    kind: "task",
    route: "Tasks",
    root: TaskRoot,
    core: async (ctx: BBSContext) => {
      const list = await taskList(ctx);
      return { count: list.length, bytes: encodeListResponse(TasksResponseSchema, "tasks", list.encoded()).length };
    },
  },
] as const;

export async function measureListings(bench: BenchContext, expected: number, rounds: number, legacy = false): Promise<ListingResult[]> {
  const out: ListingResult[] = [];
  for (const r of resources) {
    const client = bench.store.client;
    // Warm-up: JIT, sockets, and DynamoDB Local, which reads slowly for a while after a bulk load.
    await settle(client, bench.tableName, [r.root]);
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
    let legacyCoreMs: number | undefined;
    if (legacy) {
      const bare = await timed(() => bareRead(client, bench.tableName, [r.root]));
      const old = await timed(() => legacyList(bench.ctx, r.root, r.kind));
      legacyCoreMs = old.ms;
      bareMs.push(bare.ms);
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
    if (legacyCoreMs !== undefined) {
      result.legacyCoreMs = legacyCoreMs;
      result.legacyRatio = legacyCoreMs / result.bareMs;
    }
    log(
      `list ${r.resource} @${expected}: ${legacyCoreMs === undefined ? "" : `before-fix core ${legacyCoreMs.toFixed(0)} ms, `}handler ${result.handlerMs.toFixed(0)} ms, core ${result.coreMs.toFixed(0)} ms, bare ${result.bareMs.toFixed(0)} ms → ${result.ratio.toFixed(2)} (${(result.responseBytes / 1e6).toFixed(1)} MB)`,
    );
    out.push(result);
  }
  return out;
}
