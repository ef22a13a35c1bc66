// LRP convergence (semantics §6.1): gather what the store holds, judge each record by pure rules,
// then repair with conditional writes and one batched auction.
//
// Why the desired LRPs are judged first, unlike the original (which read the actuals first so that an
// LRP desired between the two reads could not make its fresh actuals look undesired): a pass must
// hold memory proportional to what it repairs, not to the cluster. With a compact index of the
// desired state in hand (guid → instances, domain, and a bitset of the indices seen), each actual is
// judged the moment its page arrives and dropped unless it needs repair. That index comes from the
// labels every desired LRP write carries (desired-lrps.ts), not from the records: decoding 50,000
// desired LRPs cost more than reading them. The race the original's order avoided is closed
// differently: before anything is created, retired or auctioned, the repair is judged again against
// the desired LRP as it is then (one batched strongly consistent read of the affected guids, which
// also yields the records the auction needs), so a desire, scale or removal that lands mid-pass is
// never undone. The same re-judgement makes it safe to read the two roots at once.
//
// Why cells are read twice: an instance is on a missing cell only if its cell is absent both before
// and after the actuals are read. Read once before, a cell that registered mid-pass and claimed an
// instance would look lost; read once after, every claimed instance would have to be kept until then.
// A cell that vanishes mid-pass is left to the next pass, which the loss itself triggers
// (cell-loss.ts).
//
// Why every write is conditional on the version this pass read: two passes at once (the schedule,
// an on-demand call and a cell-loss pass can overlap) then repair each instance once. The loser's
// conditional write fails, and it neither writes nor auctions; a pass that reads after the winner's
// write finds nothing left to repair. So re-auctioning a stale UNCLAIMED instance, which the original
// did without any write (and so again on every pass), is a CAS too: `since` = now and tag + 1, as
// when the auctioneer reports a placement failure. The instance is then auctioned at most once per
// 30 s, by one pass.
import { clone } from "@bufbuild/protobuf";
import { ActualLRPSchema, type ActualLRP } from "../gen/models/actual_lrp_pb";
import type { DesiredLRP } from "../gen/models/desired_lrp_pb";
import { actualLRPWriteOptions, createUnclaimedActualLRP, decodeActualLRP, encodeActualLRP, retireActualLRP } from "../actual-lrps";
import { unclaimActualLRP, type ReadRecord } from "../actual-lrp-lifecycle";
import { listCells } from "../cells";
import type { LRPStartRequest } from "../collaborators/auctioneer";
import { mapLimit, type BBSContext } from "../context";
import { DesiredLRPLabelNames, decodeDesiredLRP, desiredLRPSummaryFromLabels, type DesiredLRPSummary } from "../desired-lrps";
import { freshDomains } from "../domains";
import { ActualLRPState, actualLRPKey, emptyInstanceKey, incrementModificationTag } from "../models/actual-lrp";
import { BbsError, ErrorType } from "../models/errors";
import { shouldRestart } from "../models/restart-calculator";
import { validateActualLRP, validateDesiredLRP } from "../models/validation";
import { CompareFailedError, KeyNotFoundError } from "../store/errors";
import { ActualLRPRoot, DesiredLRPRoot, desiredLRPKey, parseKey } from "../store/keys";
import type { StoreNode } from "../store/store";

/** An UNCLAIMED instance older than this (strictly) has been lost by the auctioneer; hard-coded in the original. */
export const STALE_UNCLAIMED_NS = 30n * 1_000_000_000n;

/** The original ran its convergence writes 20 at a time; DynamoDB takes more, the auctioneer and reps see no more load. */
export const DEFAULT_CONVERGENCE_CONCURRENCY = 32;

/** What convergence needs of a desired LRP; the whole record is read again only for guids it repairs. */
export type DesiredSummary = DesiredLRPSummary;

/** The rule an /instance record breaks, first match wins (semantics §6.1). */
export type ActualRepair =
  /** CLAIMED or RUNNING on a cell that is not present: unclaimed and auctioned (deleted beyond the desired instances). */
  | "lost-cell"
  /** Index ≥ instances and the desired LRP's domain is fresh: retired. */
  | "extra"
  /** CRASHED and its restart backoff has passed: unclaimed and auctioned. */
  | "crashed"
  /** UNCLAIMED for more than 30 s: auctioned again (and `since` restarted). */
  | "stale-unclaimed"
  /** No desired LRP and the instance's domain is fresh: retired. */
  | "undesired";

export interface JudgeEnv {
  nowNs: bigint;
  cellPresent(cellId: string): boolean;
  domainFresh(domain: string): boolean;
}

/**
 * The rules of semantics §6.1 for one /instance record. Without a desired LRP the only rule is
 * "retire it if its domain is fresh": the original first checked for a missing cell there, and then
 * dereferenced the absent desired LRP and crashed the BBS (fixed upstream in f8c6e4a0 the same way).
 */
export function judgeActual(lrp: ActualLRP, desired: DesiredSummary | undefined, env: JudgeEnv): ActualRepair | undefined {
  if (!desired) return env.domainFresh(lrp.actualLrpKey?.domain ?? "") ? "undesired" : undefined;
  const index = lrp.actualLrpKey?.index ?? 0;
  if ((lrp.state === ActualLRPState.Claimed || lrp.state === ActualLRPState.Running) && !env.cellPresent(lrp.actualLrpInstanceKey?.cellId ?? "")) {
    return "lost-cell";
  }
  // A stale domain does not stop the rules below: an extra index there may still be restarted or re-auctioned (Surprise #8).
  if (index >= desired.instances && env.domainFresh(desired.domain)) return "extra";
  if (lrp.state === ActualLRPState.Crashed && shouldRestart(env.nowNs, lrp.since, lrp.crashCount)) return "crashed";
  if (lrp.state === ActualLRPState.Unclaimed && env.nowNs - lrp.since > STALE_UNCLAIMED_NS) return "stale-unclaimed";
  return undefined;
}

export interface ActualRepairItem {
  record: ReadRecord;
  repair: ActualRepair;
}

export interface MissingIndex {
  processGuid: string;
  index: number;
}

export interface LRPConvergencePlan {
  missing: MissingIndex[];
  repairs: ActualRepairItem[];
}

/**
 * Judges /instance records one at a time, keeping only those to repair plus a bit per desired index
 * seen, so the missing indices can be listed once every record has been seen.
 */
export class LRPConvergencePlanner {
  readonly repairs: ActualRepairItem[] = [];
  private readonly seen = new Map<string, Uint8Array>();

  constructor(
    private readonly desired: ReadonlyMap<string, DesiredSummary>,
    private readonly env: JudgeEnv,
  ) {}

  observe(record: ReadRecord): void {
    const key = record.lrp.actualLrpKey;
    const guid = key?.processGuid ?? "";
    const index = key?.index ?? 0;
    const desired = this.desired.get(guid);
    if (desired && index >= 0 && index < desired.instances) {
      let bits = this.seen.get(guid);
      if (!bits) this.seen.set(guid, (bits = new Uint8Array(Math.ceil(desired.instances / 8))));
      bits[index >> 3]! |= 1 << (index & 7);
    }
    const repair = judgeActual(record.lrp, desired, this.env);
    if (repair) this.repairs.push({ record, repair });
  }

  plan(): LRPConvergencePlan {
    const missing: MissingIndex[] = [];
    for (const [processGuid, desired] of this.desired) {
      const bits = this.seen.get(processGuid);
      for (let index = 0; index < desired.instances; index++) {
        if (!bits || !(bits[index >> 3]! & (1 << (index & 7)))) missing.push({ processGuid, index });
      }
    }
    return { missing, repairs: this.repairs };
  }
}

export interface LRPConvergenceSnapshot {
  desired: ReadonlyMap<string, DesiredSummary>;
  /** Valid /instance records. */
  actuals: Iterable<ReadRecord>;
  cells: ReadonlySet<string>;
  freshDomains: ReadonlySet<string>;
  nowNs: bigint;
}

/** The whole calculation over a snapshot in memory: what the streaming pass computes page by page. */
export function calculateLRPConvergence(snapshot: LRPConvergenceSnapshot): LRPConvergencePlan {
  const planner = new LRPConvergencePlanner(snapshot.desired, {
    nowNs: snapshot.nowNs,
    cellPresent: (cellId) => snapshot.cells.has(cellId),
    domainFresh: (domain) => snapshot.freshDomains.has(domain),
  });
  for (const record of snapshot.actuals) planner.observe(record);
  return planner.plan();
}

/** Why a stored actual LRP is not a record convergence can keep; empty when it is one. */
export function actualRecordProblems(node: StoreNode, lrp: ActualLRP): string[] {
  const parsed = parseKey(node.key);
  const problems = validateActualLRP(lrp);
  if (parsed.kind === "actualLRP" && (lrp.actualLrpKey?.processGuid !== parsed.processGuid || lrp.actualLrpKey?.index !== parsed.index)) {
    problems.push("record does not match its key");
  }
  return problems;
}

export interface LRPConvergenceReport {
  durationMs: number;
  desiredLRPs: number;
  actualLRPs: number;
  /** Indices created UNCLAIMED and auctioned. */
  missing: number;
  /** Indices beyond the desired instances retired. */
  extra: number;
  /** Instances of no desired LRP retired. */
  undesired: number;
  crashedRestarted: number;
  staleUnclaimed: number;
  /** Instances on missing cells unclaimed (and auctioned) or, beyond the desired instances, deleted. */
  lostCell: number;
  invalidActualsDeleted: number;
  invalidDesiredsDeleted: number;
  auctionedIndices: number;
  /** Repairs not made because the record changed after this pass read it. */
  lostRaces: number;
  /** Repairs that failed for another reason (logged). */
  failures: number;
}

export interface LRPConvergenceOptions {
  /** Conditional writes (and rep calls of retirement) in flight at once. */
  concurrency?: number;
}

interface InvalidRecord {
  node: StoreNode;
  problems: string[];
}

interface Gathered {
  plan: LRPConvergencePlan;
  desiredCount: number;
  actualCount: number;
  invalidDesireds: InvalidRecord[];
  invalidActuals: InvalidRecord[];
  cellsAfter: Map<string, string>;
  domains: Set<string>;
  nowNs: bigint;
}

const describeDecodeError = (error: unknown) => `undecodable: ${error instanceof Error ? error.message : String(error)}`;

/** Rep address by present cell id. */
async function presentCells(ctx: BBSContext): Promise<Map<string, string>> {
  return new Map((await listCells(ctx)).map((cell) => [cell.cellId, cell.repAddress]));
}

/** Domain errors leave no domain fresh, as in the original: nothing is then retired, which is the safe side. */
async function domainsOrNone(ctx: BBSContext): Promise<Set<string>> {
  try {
    return await freshDomains(ctx);
  } catch (error) {
    ctx.logger.error("converge-lrps.failed-to-list-domains", error);
    return new Set();
  }
}

/** Records read in full at a time when their labels do not summarise them (a table written before the labels). */
const UnlabelledChunk = 500;

/** A stored desired LRP judged in full: the record, or why convergence deletes it. */
function judgeDesiredRecord(node: StoreNode, processGuid: string): { lrp: DesiredLRP } | { problems: string[] } {
  let lrp: DesiredLRP;
  try {
    lrp = decodeDesiredLRP(node);
  } catch (error) {
    return { problems: [describeDecodeError(error)] };
  }
  const problems = validateDesiredLRP(lrp);
  if (lrp.processGuid !== processGuid) problems.push("record does not match its key");
  return problems.length > 0 ? { problems } : { lrp };
}

async function gatherDesired(ctx: BBSContext, desired: Map<string, DesiredSummary>, invalid: InvalidRecord[]): Promise<void> {
  const unlabelled: string[] = [];
  await ctx.store.forEachLabelledNode(DesiredLRPRoot, DesiredLRPLabelNames, (nodes) => {
    for (const node of nodes) {
      const parsed = parseKey(node.key);
      if (parsed.kind !== "desiredLRP") continue;
      const summary = desiredLRPSummaryFromLabels(node.labels);
      if (summary) desired.set(parsed.processGuid, summary);
      else unlabelled.push(node.key);
    }
  });
  for (let i = 0; i < unlabelled.length; i += UnlabelledChunk) {
    const nodes = await ctx.store.getMany(unlabelled.slice(i, i + UnlabelledChunk));
    for (const node of nodes.values()) {
      const parsed = parseKey(node.key);
      if (parsed.kind !== "desiredLRP") continue;
      const judged = judgeDesiredRecord(node, parsed.processGuid);
      if ("lrp" in judged) desired.set(parsed.processGuid, { instances: judged.lrp.instances, domain: judged.lrp.domain });
      else invalid.push({ node, problems: judged.problems });
    }
  }
}

async function gather(ctx: BBSContext): Promise<Gathered> {
  const desired = new Map<string, DesiredSummary>();
  const invalidDesireds: InvalidRecord[] = [];
  // Cells are read before any actual LRP (see the top of this file).
  const [domains, cellsBefore] = await Promise.all([domainsOrNone(ctx), presentCells(ctx)]);
  const desiredRead = gatherDesired(ctx, desired, invalidDesireds);
  let nowNs = 0n;
  const plannerReady = desiredRead.then(() => {
    nowNs = ctx.clock.nowNs();
    return new LRPConvergencePlanner(desired, {
      nowNs,
      cellPresent: (cellId) => cellsBefore.has(cellId),
      domainFresh: (domain) => domains.has(domain),
    });
  });
  plannerReady.catch(() => {}); // the failure surfaces through desiredRead
  const invalidActuals: InvalidRecord[] = [];
  let actualCount = 0;
  // The actual LRPs are read while the desired ones are. Each shard's first page then waits for the
  // desired index to be complete, so no more than a page a shard is held early, and the read of the
  // two roots overlaps instead of adding up.
  const actualRead = ctx.store.forEachNode(
    ActualLRPRoot,
    async (nodes) => {
      const planner = await plannerReady;
      for (const node of nodes) {
        const parsed = parseKey(node.key);
        if (parsed.kind !== "actualLRP") continue;
        let lrp: ActualLRP;
        try {
          lrp = decodeActualLRP(node);
        } catch (error) {
          invalidActuals.push({ node, problems: [describeDecodeError(error)] });
          continue;
        }
        const problems = actualRecordProblems(node, lrp);
        if (problems.length > 0) invalidActuals.push({ node, problems });
        // Evacuating records are left to their TTL and their cell (semantics §2.3).
        else if (parsed.slot === "instance") {
          actualCount++;
          planner.observe({ node, lrp });
        }
      }
    },
    { withoutLabels: true },
  );
  const [, , planner] = await Promise.all([desiredRead, actualRead, plannerReady]);
  const cellsAfter = await presentCells(ctx);
  return {
    plan: planner.plan(),
    desiredCount: desired.size,
    actualCount,
    invalidDesireds,
    invalidActuals,
    cellsAfter,
    domains,
    nowNs,
  };
}

type Outcome = "done" | "lost-race" | "failed";

const isLostRace = (error: unknown) =>
  error instanceof CompareFailedError ||
  error instanceof KeyNotFoundError ||
  (error instanceof BbsError &&
    (error.type === ErrorType.ResourceNotFound || error.type === ErrorType.ActualLRPCannotBeUnclaimed || error.type === ErrorType.ActualLRPCannotBeRemoved));

/**
 * The desired LRPs of `guids` as they are now, in one batched read; a guid maps to undefined when its
 * record is gone or no longer valid (the next pass deletes it).
 */
async function currentDesireds(ctx: BBSContext, guids: readonly string[]): Promise<Map<string, DesiredLRP | undefined>> {
  const nodes = await ctx.store.getMany(guids.map(desiredLRPKey));
  const current = new Map<string, DesiredLRP | undefined>();
  for (const guid of guids) {
    const node = nodes.get(desiredLRPKey(guid));
    const judged = node && judgeDesiredRecord(node, guid);
    current.set(guid, judged && "lrp" in judged ? judged.lrp : undefined);
  }
  return current;
}

async function resolve(ctx: BBSContext, gathered: Gathered, concurrency: number, report: LRPConvergenceReport): Promise<void> {
  const logger = ctx.logger.with({ session: "converge-lrps" });

  // Invalid records go first, so a missing index they occupied can be created in this pass.
  const deleteInvalid = async (invalid: InvalidRecord): Promise<Outcome> => {
    logger.info("deleting-invalid-record", { key: invalid.node.key, problems: invalid.problems });
    try {
      await ctx.store.compareAndDelete(invalid.node.key, invalid.node.version);
      return "done";
    } catch (error) {
      if (isLostRace(error)) return "lost-race";
      logger.error("failed-to-delete-invalid-record", error, { key: invalid.node.key });
      return "failed";
    }
  };
  const tally = (outcomes: Outcome[], done: (n: number) => void) => {
    done(outcomes.filter((o) => o === "done").length);
    report.lostRaces += outcomes.filter((o) => o === "lost-race").length;
    report.failures += outcomes.filter((o) => o === "failed").length;
  };
  tally(await mapLimit(gathered.invalidDesireds, concurrency, deleteInvalid), (n) => (report.invalidDesiredsDeleted = n));
  tally(await mapLimit(gathered.invalidActuals, concurrency, deleteInvalid), (n) => (report.invalidActualsDeleted = n));

  const { missing, repairs } = gathered.plan;
  const guids = [...new Set([...missing.map((m) => m.processGuid), ...repairs.map((r) => r.record.lrp.actualLrpKey?.processGuid ?? "")])];
  let current = new Map<string, DesiredLRP | undefined>();
  const unreadable = new Set<string>();
  try {
    current = await currentDesireds(ctx, guids);
  } catch (error) {
    // Nothing that depends on a desired LRP is repaired; invalid records are already gone.
    for (const guid of guids) unreadable.add(guid);
    logger.error("failed-to-read-desired-lrps", error, { process_guids: guids.length });
  }
  report.failures += missing.filter((m) => unreadable.has(m.processGuid)).length;

  const env: JudgeEnv = {
    nowNs: gathered.nowNs,
    cellPresent: (cellId) => gathered.cellsAfter.has(cellId),
    domainFresh: (domain) => gathered.domains.has(domain),
  };
  const auctions = new Map<string, number[]>();
  const auction = (guid: string, index: number) => {
    const indices = auctions.get(guid);
    if (indices) indices.push(index);
    else auctions.set(guid, [index]);
  };

  type Work = { kind: "missing"; guid: string; index: number; desired: DesiredLRP } | { kind: ActualRepair; item: ActualRepairItem; desired?: DesiredLRP };
  const work: Work[] = [];
  for (const m of missing) {
    const desired = current.get(m.processGuid);
    if (desired && m.index < desired.instances) work.push({ kind: "missing", guid: m.processGuid, index: m.index, desired });
  }
  for (const item of repairs) {
    const guid = item.record.lrp.actualLrpKey?.processGuid ?? "";
    if (unreadable.has(guid)) {
      report.failures++;
      continue;
    }
    const desired = current.get(guid);
    const repair = judgeActual(item.record.lrp, desired && { instances: desired.instances, domain: desired.domain }, env);
    if (repair) work.push({ kind: repair, item: { record: item.record, repair }, desired });
  }

  const counters: Record<Work["kind"], keyof LRPConvergenceReport> = {
    missing: "missing",
    "lost-cell": "lostCell",
    extra: "extra",
    undesired: "undesired",
    crashed: "crashedRestarted",
    "stale-unclaimed": "staleUnclaimed",
  };
  const perform = async (w: Work): Promise<void> => {
    if (w.kind === "missing") {
      if (await createUnclaimedActualLRP(ctx, actualLRPKey(w.guid, w.index, w.desired.domain))) {
        report.missing++;
        auction(w.guid, w.index);
      } else {
        report.lostRaces++;
      }
      return;
    }
    const { record } = w.item;
    const key = record.lrp.actualLrpKey!;
    const log = { process_guid: key.processGuid, index: key.index, repair: w.kind };
    try {
      switch (w.kind) {
        case "extra":
        case "undesired":
          await retireActualLRP(ctx, key.processGuid, key.index, { record, repAddresses: gathered.cellsAfter });
          break;
        case "lost-cell":
          if (key.index < w.desired!.instances) {
            await unclaimActualLRP(ctx, record, key, record.lrp.actualLrpInstanceKey ?? emptyInstanceKey());
            auction(key.processGuid, key.index);
          } else {
            await ctx.store.compareAndDelete(record.node.key, record.node.version);
          }
          break;
        case "crashed":
          await unclaimActualLRP(ctx, record, key, record.lrp.actualLrpInstanceKey ?? emptyInstanceKey());
          auction(key.processGuid, key.index);
          break;
        case "stale-unclaimed": {
          const touched = clone(ActualLRPSchema, record.lrp);
          touched.since = ctx.clock.nowNs();
          touched.modificationTag = incrementModificationTag(record.lrp.modificationTag);
          await ctx.store.compareAndSwap(record.node.key, encodeActualLRP(touched), record.node.version, actualLRPWriteOptions(touched));
          auction(key.processGuid, key.index);
          break;
        }
      }
      report[counters[w.kind]]++;
    } catch (error) {
      if (isLostRace(error)) {
        report.lostRaces++;
        logger.debug("repair-lost-race", log);
      } else {
        report.failures++;
        logger.error("failed-to-repair-actual-lrp", error, log);
      }
    }
  };
  await mapLimit(work, concurrency, perform);

  // One request for the whole pass (semantics §9.1), one entry per process guid.
  const starts: LRPStartRequest[] = [...auctions.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([guid, indices]) => ({ desiredLRP: current.get(guid)!, indices: indices.sort((a, b) => a - b) }));
  report.auctionedIndices = starts.reduce((n, s) => n + s.indices.length, 0);
  if (starts.length > 0) {
    try {
      await ctx.auctioneer.requestLRPAuctions(starts);
    } catch (error) {
      // The instances stay UNCLAIMED; the next pass finds them stale and auctions them again.
      logger.error("failed-to-request-lrp-auctions", error, { lrp_starts: starts.length, indices: report.auctionedIndices });
    }
  }
}

function emptyReport(): LRPConvergenceReport {
  return {
    durationMs: 0,
    desiredLRPs: 0,
    actualLRPs: 0,
    missing: 0,
    extra: 0,
    undesired: 0,
    crashedRestarted: 0,
    staleUnclaimed: 0,
    lostCell: 0,
    invalidActualsDeleted: 0,
    invalidDesiredsDeleted: 0,
    auctionedIndices: 0,
    lostRaces: 0,
    failures: 0,
  };
}

/** `desiredLRPs` → `desired_lrps`, as Diego's log data keys are written. */
const snake = (report: object) =>
  Object.fromEntries(Object.entries(report).map(([k, v]) => [k.replace(/([a-z0-9])([A-Z]+)/g, "$1_$2").toLowerCase(), v]));

/**
 * One LRP convergence pass. A store failure while gathering aborts the pass before anything is
 * repaired (and is thrown); failures of single repairs are logged and counted, never thrown.
 */
export async function convergeLRPs(ctx: BBSContext, options: LRPConvergenceOptions = {}): Promise<LRPConvergenceReport> {
  const started = performance.now();
  const report = emptyReport();
  let gathered: Gathered;
  try {
    gathered = await gather(ctx);
  } catch (error) {
    ctx.logger.error("converge-lrps.aborted", error, { duration_ms: Math.round(performance.now() - started) });
    throw error;
  }
  report.desiredLRPs = gathered.desiredCount;
  report.actualLRPs = gathered.actualCount;
  await resolve(ctx, gathered, options.concurrency ?? DEFAULT_CONVERGENCE_CONCURRENCY, report);
  report.durationMs = Math.round(performance.now() - started);
  ctx.logger.info("converge-lrps.done", snake(report));
  return report;
}

export { snake as snakeCaseReport };
