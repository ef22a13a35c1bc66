// LRP convergence over a real DynamoDB Local table at scale: 10,000 actual LRP records across 100
// desired LRPs with every inconsistency of semantics §6.1, repaired in one pass with exact counts,
// one batched auction and a checked final state; then two passes at once, which repair each
// instance exactly once. Also the cell-loss reactor and task convergence against the store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActualLRP } from "../../core/gen/models/actual_lrp_pb";
import { Task_State } from "../../core/gen/models/task_pb";
import { decodeActualLRP } from "../../core/actual-lrps";
import { upsertCellPresence } from "../../core/cells";
import { ManualClock } from "../../core/clock";
import type { BBSContext } from "../../core/context";
import { convergeLRPs, type LRPConvergenceReport } from "../../core/convergence/lrp-convergence";
import { CellDisappearedReason, NotStartedReason, convergeTasks } from "../../core/convergence/task-convergence";
import { desireLRP, updateDesiredLRP } from "../../core/desired-lrps";
import { upsertDomain } from "../../core/domains";
import { create } from "@bufbuild/protobuf";
import { DesiredLRPUpdateSchema } from "../../core/gen/models/desired_lrp_pb";
import type { LogData, Logger } from "../../core/logger";
import { ActualLRPState } from "../../core/models/actual-lrp";
import { reactToChanges } from "../../core/store-change-reactors";
import { ActualLRPRoot, actualLRPInstanceKey, cellPresenceKey, evacuatingActualLRPKey, parseKey, taskKey } from "../../core/store/keys";
import type { Store, StoreNode, StoreOp } from "../../core/store/store";
import { decodeTask } from "../../core/tasks";
import {
  RecordingAuctioneer,
  RecordingReps,
  SECOND_NS,
  MINUTE_NS,
  actualLRP,
  cellPresence,
  desiredLRP,
  desiredOp,
  evacuatingOp,
  instanceOp,
  load,
  rawOp,
  unlabelledDesiredOp,
  task,
  taskOp,
} from "../support/convergence-fixtures";
import { freshStore } from "../support/dynamo";

const { Unclaimed, Claimed, Running, Crashed } = ActualLRPState;
const FRESH = "cf-apps";
const STALE = "stale-apps";
const LIVE_CELLS = Array.from({ length: 10 }, (_, i) => `cell-${i + 1}`);
const LOST_CELL = "cell-lost";

interface Captured {
  level: string;
  message: string;
  data?: LogData;
}

function capturingLogger(lines: Captured[], base: LogData = {}): Logger {
  return {
    debug: (message, data) => lines.push({ level: "debug", message, data: { ...base, ...data } }),
    info: (message, data) => lines.push({ level: "info", message, data: { ...base, ...data } }),
    error: (message, _error, data) => lines.push({ level: "error", message, data: { ...base, ...data } }),
    with: (data) => capturingLogger(lines, { ...base, ...data }),
  };
}

interface World {
  ctx: BBSContext;
  store: Store;
  clock: ManualClock;
  auctioneer: RecordingAuctioneer;
  reps: RecordingReps;
  logs: Captured[];
}

async function world(): Promise<World> {
  // Ahead of real time: DynamoDB Local's own TTL reaper deletes items whose expiry is in the real
  // past, and the store's expiry attribute follows this clock.
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
  const { store } = await freshStore({ clock });
  const auctioneer = new RecordingAuctioneer();
  const reps = new RecordingReps();
  const logs: Captured[] = [];
  const ctx: BBSContext = { store, clock, logger: capturingLogger(logs), auctioneer, reps, communicationTimeoutMs: 1000 };
  for (const cell of LIVE_CELLS) await upsertCellPresence(ctx, cellPresence(cell, `http://${cell}.example:1800`), 0);
  await upsertDomain(ctx, FRESH, 0);
  return { ctx, store, clock, auctioneer, reps, logs };
}

/** What must become of a stored record (or of a key with none) after one pass. */
type Fate =
  | "unchanged"
  | "gone"
  /** Created UNCLAIMED by this pass (a missing index). */
  | "created"
  /** Unclaimed in place: UNCLAIMED, since = now, no instance, tag + 1, crash count kept. */
  | "unclaimed"
  /** Stale UNCLAIMED touched for its re-auction: since = now, tag + 1. */
  | "touched";

interface Seeded {
  ops: StoreOp[];
  fates: Map<string, Fate>;
  originals: Map<string, ActualLRP>;
  /** The bytes each record was seeded with. */
  values: Map<string, Uint8Array>;
  /** The version of each record once loaded (set after loading). */
  versions?: Map<string, number>;
  /** Instances whose retirement must ask their cell's rep to stop them. */
  stops: Set<string>;
}

function seeder(nowNs: bigint) {
  const seeded: Seeded = { ops: [], fates: new Map(), originals: new Map(), values: new Map(), stops: new Set() };
  const instance = (guid: string, index: number, state: ActualLRPState, fate: Fate, more: Partial<Parameters<typeof actualLRP>[3]> = {}) => {
    const lrp = actualLRP(guid, index, state, { sinceNs: nowNs - SECOND_NS, cellId: LIVE_CELLS[index % LIVE_CELLS.length], ...more });
    const key = actualLRPInstanceKey(guid, index);
    const op = instanceOp(lrp);
    seeded.ops.push(op);
    if (op.op === "create") seeded.values.set(key, op.value);
    seeded.fates.set(key, fate);
    seeded.originals.set(key, lrp);
    return key;
  };
  return { seeded, instance };
}

/**
 * 101 desired LRPs (90 in a fresh domain, 9 in a stale one, 1 that no longer validates, 1 valid one written
 * before records carried the instances label) and exactly
 * 10,000 actual LRP records, with every inconsistency convergence repairs and every one it must leave.
 */
function seedTenThousand(nowNs: bigint) {
  const { seeded, instance } = seeder(nowNs);
  const ago = (s: bigint) => nowNs - s * SECOND_NS;
  const missing = (guid: string, index: number) => seeded.fates.set(actualLRPInstanceKey(guid, index), "created");

  for (let i = 0; i < 90; i++) {
    const guid = `fresh-${String(i).padStart(2, "0")}`;
    seeded.ops.push(desiredOp(desiredLRP(guid, 100, FRESH)));
    for (let index = 0; index < 100; index++) {
      if (index === 99 && i < 20) missing(guid, index);
      else if (index === 98 && i < 5) {
        // Only an evacuating record: the index counts as missing.
        seeded.ops.push(evacuatingOp(actualLRP(guid, index, Running, { sinceNs: ago(5n), cellId: LIVE_CELLS[0] })));
        seeded.fates.set(evacuatingActualLRPKey(guid, index), "unchanged");
        missing(guid, index);
      } else if (index < 2 && i < 20) instance(guid, index, Running, "unclaimed", { cellId: LOST_CELL });
      else if (index === 5 && i < 5) instance(guid, index, Claimed, "unclaimed", { cellId: LOST_CELL });
      else if (index === 10 && i < 30) instance(guid, index, Crashed, "unclaimed", { crashCount: 3, sinceNs: ago(31n) });
      else if (index === 13 && i < 20) instance(guid, index, Crashed, "unchanged", { crashCount: 5, sinceNs: ago(60n) });
      else if (index === 14 && i < 5) instance(guid, index, Crashed, "unchanged", { crashCount: 200, sinceNs: ago(100_000n) });
      else if (index >= 20 && index <= 21 && i < 20) instance(guid, index, Unclaimed, "touched", { sinceNs: ago(31n) });
      else if (index === 23 && i < 20) instance(guid, index, Unclaimed, "unchanged", { sinceNs: ago(10n) });
      else if (index === 24 && i < 5) instance(guid, index, Unclaimed, "touched", { sinceNs: ago(60n), placementError: "insufficient resources" });
      else if (index === 30 && i < 5) {
        // Fails validation (CLAIMED with no cell): deleted, then created again as a missing index.
        instance(guid, index, Claimed, "created", { cellId: "" });
      } else if (index === 31 && i < 5) {
        seeded.ops.push(rawOp(actualLRPInstanceKey(guid, index), "not a record"));
        missing(guid, index);
      } else if (index === 50 && i < 5) {
        instance(guid, index, Running, "unchanged");
        seeded.ops.push(evacuatingOp(actualLRP(guid, index, Running, { sinceNs: ago(5n), cellId: LIVE_CELLS[1] })));
        seeded.fates.set(evacuatingActualLRPKey(guid, index), "unchanged");
      } else if (index === 51 && i < 5) {
        instance(guid, index, Running, "unchanged");
        seeded.ops.push(rawOp(evacuatingActualLRPKey(guid, index), "\x02\xff\xff"));
        seeded.fates.set(evacuatingActualLRPKey(guid, index), "gone");
      } else instance(guid, index, Running, "unchanged");
    }
    if (i < 10) {
      seeded.stops.add(instance(guid, 100, Running, "unchanged"));
      seeded.stops.add(instance(guid, 101, Running, "unchanged"));
      instance(guid, 102, Unclaimed, "gone");
    }
    if (i < 5) instance(guid, 103, Running, "gone", { cellId: LOST_CELL });
  }

  for (let j = 0; j < 9; j++) {
    const guid = `stale-${j}`;
    seeded.ops.push(desiredOp(desiredLRP(guid, 80, STALE)));
    instance(guid, 0, Running, "unclaimed", { cellId: LOST_CELL, domain: STALE });
    for (let index = 1; index < 80; index++) instance(guid, index, Running, "unchanged", { domain: STALE });
    // Extra indices of a stale domain are not retired, but a crash among them is still restarted (Surprise #8).
    for (let index = 80; index < 82; index++) instance(guid, index, Running, "unchanged", { domain: STALE });
    instance(guid, 82, Crashed, "unclaimed", { domain: STALE, crashCount: 3, sinceNs: ago(31n) });
  }

  // A desired LRP that no longer validates is deleted, and its instances are then undesired. Only a
  // record without the instances label (written before it existed) is validated by convergence; one
  // written since was validated by the write that labelled it.
  const bad = desiredLRP("bad-desired", 20, FRESH);
  bad.rootFs = "";
  seeded.ops.push(unlabelledDesiredOp(bad));
  // A valid record from before the label: read in full, and converged like any other.
  seeded.ops.push(unlabelledDesiredOp(desiredLRP("old-desired", 2, FRESH)));
  instance("old-desired", 0, Running, "unchanged");
  missing("old-desired", 1);
  for (let index = 0; index < 20; index++) seeded.stops.add(instance("bad-desired", index, Running, "unchanged"));

  for (let u = 0; u < 3; u++) {
    const guid = `undesired-${u}`;
    for (let index = 0; index < 4; index++) seeded.stops.add(instance(guid, index, Running, "unchanged"));
    for (let index = 4; index < 7; index++) instance(guid, index, Unclaimed, "gone", { sinceNs: ago(1n) });
    for (let index = 7; index < 9; index++) instance(guid, index, Crashed, "gone", { crashCount: 4, sinceNs: ago(1n) });
    // On a missing cell with no desired LRP: the original's panic. Retired like any undesired instance.
    instance(guid, 9, Running, "gone", { cellId: LOST_CELL });
  }

  // Undesired in a stale domain, on a missing cell or not: left alone. They fill up to 10,000 records.
  const records = seeded.ops.filter((op) => op.key.startsWith(`${ActualLRPRoot}/`)).length;
  for (let s = 0; s < 10_000 - records; s++) {
    instance(`orphan-${Math.floor(s / 100)}`, s % 100, Running, "unchanged", { domain: STALE, cellId: s % 10 === 0 ? LOST_CELL : undefined });
  }
  return seeded;
}

const AUCTIONED = 35 + 1 + (40 + 5 + 9) + 39 + 45;

function expectedCounts(): Partial<LRPConvergenceReport> {
  return {
    desiredLRPs: 100,
    actualLRPs: 10_000 - 15 - 10,
    missing: 20 + 5 + 5 + 5 + 1,
    lostCell: 40 + 5 + 5 + 9,
    crashedRestarted: 30 + 9,
    staleUnclaimed: 40 + 5,
    extra: 20 + 10,
    undesired: 20 + 30,
    invalidActualsDeleted: 5 + 5 + 5,
    invalidDesiredsDeleted: 1,
    auctionedIndices: AUCTIONED,
    lostRaces: 0,
    failures: 0,
  };
}

async function actualNodes(store: Store): Promise<Map<string, StoreNode>> {
  const nodes = new Map<string, StoreNode>();
  await store.forEachNode(ActualLRPRoot, (page) => {
    for (const node of page) nodes.set(node.key, node);
  });
  return nodes;
}

const versionsOf = (nodes: Map<string, StoreNode>) => new Map([...nodes].map(([key, node]) => [key, node.version]));

/** Checks every record against its fate; returns the keys that must have been auctioned. */
function checkFinalState(seeded: Seeded, nodes: Map<string, StoreNode>, nowNs: bigint): Set<string> {
  const auctioned = new Set<string>();
  const problems: string[] = [];
  for (const [key, fate] of seeded.fates) {
    const node = nodes.get(key);
    const before = seeded.originals.get(key);
    const parsed = parseKey(key);
    const id = parsed.kind === "actualLRP" ? `${parsed.processGuid}/${parsed.index}` : key;
    if (fate === "gone") {
      if (node) problems.push(`${key}: still there`);
      continue;
    }
    if (!node) {
      problems.push(`${key}: missing (want ${fate})`);
      continue;
    }
    if (fate === "unchanged" && !before) continue; // evacuating records: present is enough
    const after = decodeActualLRP(node);
    const fail = (what: string) => problems.push(`${key} (${fate}): ${what}`);
    switch (fate) {
      case "unchanged":
        if (!Buffer.from(node.value).equals(Buffer.from(seeded.values.get(key)!)) || node.version !== seeded.versions?.get(key)) fail("changed");
        break;
      case "created":
        auctioned.add(id);
        if (after.state !== Unclaimed || after.since !== nowNs || after.modificationTag?.index !== 0 || after.crashCount !== 0) fail(`not a fresh UNCLAIMED record: ${after.state} ${after.since}`);
        break;
      case "unclaimed":
        auctioned.add(id);
        if (after.state !== Unclaimed || after.since !== nowNs || after.actualLrpInstanceKey?.cellId !== "" || after.actualLrpNetInfo?.address !== "") fail(`not unclaimed: ${after.state}`);
        if (after.crashCount !== before!.crashCount || after.modificationTag?.index !== before!.modificationTag!.index + 1) fail("crash count or tag");
        if (after.modificationTag?.epoch !== before!.modificationTag?.epoch) fail("epoch changed");
        break;
      case "touched":
        auctioned.add(id);
        if (after.state !== Unclaimed || after.since !== nowNs || after.modificationTag?.index !== before!.modificationTag!.index + 1) fail("not touched");
        if (after.placementError !== before!.placementError) fail("placement error changed");
        break;
    }
  }
  const expectedKeys = new Set([...seeded.fates].filter(([, fate]) => fate !== "gone").map(([key]) => key));
  for (const key of nodes.keys()) if (!expectedKeys.has(key)) problems.push(`${key}: unexpected record`);
  expect(problems.slice(0, 20)).toEqual([]);
  return auctioned;
}

describe("LRP convergence of 10,000 actual LRPs across 101 desired LRPs", () => {
  let w: World;
  let seeded: Seeded;
  let report: LRPConvergenceReport;
  let nowNs: bigint;
  let after: Map<string, StoreNode>;
  let loadMs: number;

  beforeAll(async () => {
    w = await world();
    nowNs = w.clock.nowNs();
    seeded = seedTenThousand(nowNs);
    const started = performance.now();
    await load(w.store, seeded.ops, 8);
    loadMs = Math.round(performance.now() - started);
    seeded.versions = versionsOf(await actualNodes(w.store));
    report = await convergeLRPs(w.ctx);
    after = await actualNodes(w.store);
  }, 240_000);

  it("reads all 10,000 records", () => {
    expect(seeded.ops.filter((op) => op.key.startsWith(`${ActualLRPRoot}/`))).toHaveLength(10_000);
    expect(seeded.versions!.size).toBe(10_000);
    expect(report.actualLRPs).toBe(10_000 - 15 - 10);
  });

  it("makes exactly the repairs every rule calls for", () => {
    expect(report).toMatchObject(expectedCounts());
  });

  it("logs the counts and the duration in one structured line, and each invalid record it deletes", () => {
    const done = w.logs.filter((l) => l.message === "converge-lrps.done");
    expect(done).toHaveLength(1);
    expect(done[0]!.data).toMatchObject({
      desired_lrps: 100,
      missing: 36,
      lost_cell: 59,
      crashed_restarted: 39,
      stale_unclaimed: 45,
      extra: 30,
      undesired: 50,
      invalid_actuals_deleted: 15,
      invalid_desireds_deleted: 1,
    });
    expect(done[0]!.data!.duration_ms).toBeTypeOf("number");
    expect(w.logs.filter((l) => l.message === "deleting-invalid-record")).toHaveLength(16);
    console.info(`10k actual LRPs: loaded in ${loadMs} ms, converged in ${report.durationMs} ms`);
  });

  it("leaves every record in the state its rule calls for, and nothing else", () => {
    expect(checkFinalState(seeded, after, nowNs).size).toBe(AUCTIONED);
  });

  it("sends one batched auction request with every index, one entry per process guid with its whole desired LRP", () => {
    expect(w.auctioneer.lrpRequests).toHaveLength(1);
    const starts = w.auctioneer.lrpRequests[0]!;
    const guids = starts.map((s) => s.desiredLRP.processGuid);
    expect(guids).toEqual([...new Set(guids)].sort());
    for (const s of starts) {
      expect(s.indices).toEqual([...s.indices].sort((a, b) => a - b));
      expect(s.desiredLRP.rootFs).toBe("docker:///cloudfoundry/grace");
      const guid = s.desiredLRP.processGuid;
      expect(s.desiredLRP.instances).toBe(guid.startsWith("stale-") ? 80 : guid === "old-desired" ? 2 : 100);
    }
    expect(w.auctioneer.auctionedIndices).toHaveLength(AUCTIONED);
    expect(new Set(w.auctioneer.auctionedIndices)).toEqual(checkFinalState(seeded, after, nowNs));
  });

  it("asks the reps to stop exactly the running instances it retires, at their cells' addresses", () => {
    const stopped = w.reps.stops.map((s) => `${s.processGuid}/${s.instanceGuid}/${s.repAddress}`).sort();
    const want = [...seeded.stops]
      .map((key) => {
        const lrp = seeded.originals.get(key)!;
        return `${lrp.actualLrpKey!.processGuid}/${lrp.actualLrpInstanceKey!.instanceGuid}/http://${lrp.actualLrpInstanceKey!.cellId}.example:1800`;
      })
      .sort();
    expect(stopped).toEqual(want);
    expect(stopped).toHaveLength(52);
  });

  it("on the next pass repeats only what is repeated by design: stops for instances still running where they are not wanted", async () => {
    w.auctioneer.lrpRequests.length = 0;
    w.reps.stops.length = 0;
    const again = await convergeLRPs(w.ctx);
    expect(again).toMatchObject({
      missing: 0,
      lostCell: 0,
      crashedRestarted: 0,
      staleUnclaimed: 0,
      extra: 20,
      undesired: 32,
      invalidActualsDeleted: 0,
      invalidDesiredsDeleted: 0,
      auctionedIndices: 0,
    });
    expect(w.auctioneer.lrpRequests).toHaveLength(0);
    expect(w.reps.stops).toHaveLength(52);
  });

  it("re-auctions the instances it put up for auction once they are stale in turn, 30 s later", async () => {
    w.auctioneer.lrpRequests.length = 0;
    w.clock.advance(30_001);
    const later = await convergeLRPs(w.ctx);
    expect(later.staleUnclaimed).toBe(AUCTIONED + 20);
    expect(w.auctioneer.lrpRequests).toHaveLength(1);
  });
});

/** A few hundred records with every repair that a second pass could contend for (no running extras, whose stop is repeated by design). */
function seedContended(nowNs: bigint) {
  const { seeded, instance } = seeder(nowNs);
  const ago = (s: bigint) => nowNs - s * SECOND_NS;
  for (let i = 0; i < 10; i++) {
    const guid = `app-${i}`;
    seeded.ops.push(desiredOp(desiredLRP(guid, 20, FRESH)));
    for (let index = 0; index < 18; index++) {
      if (index < 3) instance(guid, index, Running, "unclaimed", { cellId: LOST_CELL });
      else if (index < 6) instance(guid, index, Crashed, "unclaimed", { crashCount: 4, sinceNs: ago(61n) });
      else if (index < 9) instance(guid, index, Unclaimed, "touched", { sinceNs: ago(45n) });
      else if (index === 9) instance(guid, index, Claimed, "created", { cellId: "" });
      else instance(guid, index, Running, "unchanged");
    }
    seeded.fates.set(actualLRPInstanceKey(guid, 18), "created");
    seeded.fates.set(actualLRPInstanceKey(guid, 19), "created");
    instance(guid, 20, Unclaimed, "gone");
    instance(guid, 21, Crashed, "gone", { crashCount: 5, sinceNs: ago(1n) });
  }
  for (let index = 0; index < 10; index++) instance("orphan", index, index < 5 ? Unclaimed : Crashed, "gone", { crashCount: 3 });
  return seeded;
}

describe("convergence after desire and update through the BBS", () => {
  it("works from the instance count each write labels the desired LRP with, the latest one included", async () => {
    const w = await world();
    await desireLRP(w.ctx, desiredLRP("scaled", 2, FRESH));
    await updateDesiredLRP(w.ctx, "scaled", create(DesiredLRPUpdateSchema, { instances: 4 }));
    await w.store.delete(actualLRPInstanceKey("scaled", 3));
    const report = await convergeLRPs(w.ctx);
    // Judged by the count desired before the update, index 3 would not be missing and 2 would be extra.
    expect(report).toMatchObject({ desiredLRPs: 1, actualLRPs: 3, missing: 1, extra: 0, invalidDesiredsDeleted: 0 });
    expect((await w.store.get(actualLRPInstanceKey("scaled", 3))).key).toBe(actualLRPInstanceKey("scaled", 3));

    await updateDesiredLRP(w.ctx, "scaled", create(DesiredLRPUpdateSchema, { instances: 1 }));
    await w.store.delete(actualLRPInstanceKey("scaled", 0));
    expect(await convergeLRPs(w.ctx)).toMatchObject({ missing: 1, extra: 0 });
  });
});

describe("two LRP convergence passes at once", () => {
  it("repair each instance once, auction each index once, and end in the state one pass leaves", async () => {
    for (const stagger of [0, 25]) {
      const w = await world();
      const nowNs = w.clock.nowNs();
      const seeded = seedContended(nowNs);
      await load(w.store, seeded.ops, 8);
      seeded.versions = versionsOf(await actualNodes(w.store));

      const passes = await Promise.all([
        convergeLRPs(w.ctx),
        new Promise<LRPConvergenceReport>((resolve, reject) => setTimeout(() => convergeLRPs(w.ctx).then(resolve, reject), stagger)),
      ]);
      const sum = (k: keyof LRPConvergenceReport) => passes[0][k] + passes[1][k];
      expect({
        missing: sum("missing"),
        lostCell: sum("lostCell"),
        crashedRestarted: sum("crashedRestarted"),
        staleUnclaimed: sum("staleUnclaimed"),
        extra: sum("extra"),
        undesired: sum("undesired"),
        invalid: sum("invalidActualsDeleted"),
        failures: sum("failures"),
      }).toEqual({ missing: 30, lostCell: 30, crashedRestarted: 30, staleUnclaimed: 30, extra: 20, undesired: 10, invalid: 10, failures: 0 });

      const auctioned = w.auctioneer.auctionedIndices;
      expect(auctioned.length).toBe(new Set(auctioned).size);
      const mustAuction = checkFinalState(seeded, await actualNodes(w.store), nowNs);
      expect(new Set(auctioned)).toEqual(mustAuction);
    }
  }, 120_000);
});

describe("the store's streamed listing", () => {
  it("visits the nodes list returns, page by page, without expired ones, and without labels when asked", async () => {
    const w = await world();
    const nowNs = w.clock.nowNs();
    const ops: StoreOp[] = [];
    for (let i = 0; i < 40; i++) ops.push(instanceOp(actualLRP(`g-${i % 7}`, i, Running, { sinceNs: nowNs, cellId: LIVE_CELLS[0] })));
    await load(w.store, ops);
    await w.store.set(evacuatingActualLRPKey("g-1", 1), new Uint8Array([2]), { ttlSeconds: 1, labels: { domain: FRESH } });
    const byKey = (nodes: StoreNode[]) => [...nodes].sort((a, b) => (a.key < b.key ? -1 : 1));
    const streamed = async (prefix: string, withoutLabels = false) => {
      const nodes: StoreNode[] = [];
      let pages = 0;
      await w.store.forEachNode(prefix, (page) => void (pages++, nodes.push(...page)), { withoutLabels });
      return { nodes: byKey(nodes), pages };
    };
    for (const prefix of [ActualLRPRoot, "/v1", "/v1/actual/g-1", "/v1/actual/g-1/1/instance", "/v1/actual/none"]) {
      expect((await streamed(prefix)).nodes).toEqual(byKey(await w.store.list(prefix, { recursive: true })));
    }
    expect((await streamed(ActualLRPRoot)).nodes).toHaveLength(41);
    expect((await streamed(ActualLRPRoot, true)).nodes).toEqual(byKey(await w.store.list(ActualLRPRoot, { recursive: true })).map(({ labels: _l, ...rest }) => rest));
    w.clock.advance(1500);
    expect((await streamed(ActualLRPRoot)).nodes).toHaveLength(40);
    expect((await streamed("/v1/actual/none")).pages).toBe(0);
  });
});

describe("a lost cell", () => {
  it("is converged from the change stream: its instances are unclaimed and auctioned at once, in one pass for several losses", async () => {
    const w = await world();
    const nowNs = w.clock.nowNs();
    await upsertCellPresence(w.ctx, cellPresence("doomed-1"), 5);
    await upsertCellPresence(w.ctx, cellPresence("doomed-2"), 5);
    await load(w.store, [
      desiredOp(desiredLRP("web", 3, FRESH)),
      instanceOp(actualLRP("web", 0, Running, { sinceNs: nowNs, cellId: "doomed-1" })),
      instanceOp(actualLRP("web", 1, Running, { sinceNs: nowNs, cellId: "doomed-2" })),
      instanceOp(actualLRP("web", 2, Running, { sinceNs: nowNs, cellId: LIVE_CELLS[0] })),
    ]);
    const before = await Promise.all([1, 2].map((n) => w.store.get(cellPresenceKey(`doomed-${n}`))));
    w.clock.advance(6000);
    expect(await w.store.sweepExpired()).toBe(2);

    const removals = before.map((node, i) => ({ key: node.key, before: node, expired: true, sequence: String(i + 1) }));
    const unrelated = { key: taskKey("t"), before: before[0]!, expired: false, sequence: "0" };
    expect(await reactToChanges(w.ctx, [unrelated, ...removals])).toBeUndefined();

    expect(w.auctioneer.lrpRequests).toHaveLength(1);
    expect(w.auctioneer.auctionedIndices).toEqual(["web/0", "web/1"]);
    expect(w.logs.filter((l) => l.message === "converge-lrps.done")).toHaveLength(1);
    const nodes = await actualNodes(w.store);
    expect(decodeActualLRP(nodes.get(actualLRPInstanceKey("web", 0))!).state).toBe(Unclaimed);
    expect(decodeActualLRP(nodes.get(actualLRPInstanceKey("web", 2))!).state).toBe(Running);
  });

  it("retires an instance on a missing cell whose desired LRP is gone instead of crashing (the original's panic)", async () => {
    const w = await world();
    const nowNs = w.clock.nowNs();
    await load(w.store, [instanceOp(actualLRP("gone", 0, Running, { sinceNs: nowNs, cellId: LOST_CELL }))]);
    const report = await convergeLRPs(w.ctx);
    expect(report).toMatchObject({ undesired: 1, lostCell: 0, failures: 0 });
    expect((await actualNodes(w.store)).size).toBe(0);
    expect(w.reps.stops).toEqual([]);
    expect(w.auctioneer.lrpRequests).toEqual([]);
  });
});

describe("task convergence against the store", () => {
  it("applies every rule with conditional writes, and a second pass at once changes nothing more", async () => {
    const w = await world();
    const now = w.clock.nowNs();
    const ago = (ns: bigint) => now - ns;
    await load(w.store, [
      taskOp(task("pending-fresh", Task_State.Pending, { createdAt: now })),
      taskOp(task("pending-kick", Task_State.Pending, { createdAt: ago(MINUTE_NS) })),
      taskOp(task("pending-expired", Task_State.Pending, { createdAt: ago(31n * MINUTE_NS) })),
      taskOp(task("running-lost", Task_State.Running, { createdAt: now, cellId: LOST_CELL })),
      taskOp(task("running-here", Task_State.Running, { createdAt: now, cellId: LIVE_CELLS[0] })),
      taskOp(task("completed-old", Task_State.Completed, { createdAt: ago(10n * MINUTE_NS), firstCompletedAt: ago(3n * MINUTE_NS) })),
      taskOp(task("completed-cb", Task_State.Completed, { createdAt: ago(MINUTE_NS), callbackUrl: "http://cb.example/" })),
      taskOp(task("resolving-stuck", Task_State.Resolving, { createdAt: ago(MINUTE_NS), callbackUrl: "http://cb.example/" })),
      taskOp(task("resolving-old", Task_State.Resolving, { createdAt: ago(10n * MINUTE_NS), firstCompletedAt: ago(3n * MINUTE_NS) })),
      rawOp(taskKey("corrupt"), "garbage"),
    ]);
    const [a, b] = await Promise.all([convergeTasks(w.ctx), convergeTasks(w.ctx)]);
    const sum = (k: keyof typeof a) => (a[k] as number) + (b[k] as number);
    expect({ failed: sum("failed"), rekicked: sum("callbacksRekicked"), demoted: sum("demoted"), deleted: sum("deleted"), invalid: sum("invalidDeleted") }).toEqual({
      failed: 2,
      rekicked: 1,
      demoted: 1,
      deleted: 2,
      invalid: 1,
    });
    const tasks = new Map((await w.store.list("/v1/task", { recursive: true })).map((n) => [n.key, decodeTask(n)]));
    expect([...tasks.keys()].map((k) => k.slice("/v1/task/".length)).sort()).toEqual(
      ["completed-cb", "pending-expired", "pending-fresh", "pending-kick", "resolving-stuck", "running-here", "running-lost"].sort(),
    );
    expect(tasks.get(taskKey("pending-expired"))).toMatchObject({ state: Task_State.Completed, failed: true, failureReason: NotStartedReason, updatedAt: now });
    expect(tasks.get(taskKey("running-lost"))).toMatchObject({ state: Task_State.Completed, failed: true, failureReason: CellDisappearedReason, cellId: "" });
    expect(tasks.get(taskKey("completed-cb"))).toMatchObject({ state: Task_State.Completed, updatedAt: now });
    expect(tasks.get(taskKey("resolving-stuck"))).toMatchObject({ state: Task_State.Completed, updatedAt: now });
    // Kicks are not written, so both passes auctioned the Pending task: each pass sends one batch.
    expect(w.auctioneer.taskRequests.map((r) => r.map((t) => t.taskGuid))).toEqual([["pending-kick"], ["pending-kick"]]);
  });
});
