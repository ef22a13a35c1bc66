// The rules of LRP convergence (semantics §6.1) as pure calculations over a snapshot, with an
// injected clock; plus the cell-loss coalescing and the scheduled function's plan.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../core/clock";
import type { BBSContext } from "../../core/context";
import { convergeLRPsCovering } from "../../core/convergence/cell-loss";
import {
  STALE_UNCLAIMED_NS,
  actualRecordProblems,
  calculateLRPConvergence,
  judgeActual,
  type DesiredSummary,
  type JudgeEnv,
} from "../../core/convergence/lrp-convergence";
import { ActualLRPState } from "../../core/models/actual-lrp";
import { silentLogger } from "../../core/logger";
import type { Store } from "../../core/store/store";
import { invocationPlan } from "../../functions/convergence/scheduled";
import { MINUTE_NS, SECOND_NS, actualLRP, listed } from "../support/convergence-fixtures";

const { Unclaimed, Claimed, Running, Crashed } = ActualLRPState;
const clock = new ManualClock(Date.UTC(2026, 0, 1));
const now = () => clock.nowNs();

const desired = (instances: number, domain = "cf-apps"): DesiredSummary => ({ instances, domain });

function env(options: { cells?: string[]; domains?: string[] } = {}): JudgeEnv {
  const cells = new Set(options.cells ?? ["cell-a"]);
  const domains = new Set(options.domains ?? ["cf-apps"]);
  return { nowNs: now(), cellPresent: (id) => cells.has(id), domainFresh: (d) => domains.has(d) };
}

const lrp = (index: number, state: ActualLRPState, ageNs = 0n, more: { cellId?: string; crashCount?: number; domain?: string; placementError?: string } = {}) =>
  actualLRP("pg", index, state, { sinceNs: now() - ageNs, ...more });

describe("missing indices", () => {
  it("are the indices below instances with no /instance record", () => {
    const plan = calculateLRPConvergence({
      desired: new Map([
        ["pg", desired(4)],
        ["empty", desired(2)],
        ["zero", desired(0)],
      ]),
      actuals: [listed(lrp(0, Running)), listed(lrp(2, Claimed))],
      cells: new Set(["cell-a"]),
      freshDomains: new Set(["cf-apps"]),
      nowNs: now(),
    });
    expect(plan.missing).toEqual([
      { processGuid: "pg", index: 1 },
      { processGuid: "pg", index: 3 },
      { processGuid: "empty", index: 0 },
      { processGuid: "empty", index: 1 },
    ]);
    expect(plan.repairs).toEqual([]);
  });

  it("are created whatever the domain's freshness (only destruction is guarded)", () => {
    const plan = calculateLRPConvergence({
      desired: new Map([["pg", desired(1, "stale")]]),
      actuals: [],
      cells: new Set(),
      freshDomains: new Set(),
      nowNs: now(),
    });
    expect(plan.missing).toEqual([{ processGuid: "pg", index: 0 }]);
  });
});

describe("instances on missing cells", () => {
  it("are lost when CLAIMED or RUNNING on a cell that is not present", () => {
    expect(judgeActual(lrp(0, Running, 0n, { cellId: "cell-gone" }), desired(1), env())).toBe("lost-cell");
    expect(judgeActual(lrp(0, Claimed, 0n, { cellId: "cell-gone" }), desired(1), env())).toBe("lost-cell");
    expect(judgeActual(lrp(0, Running, 0n, { cellId: "cell-a" }), desired(1), env())).toBeUndefined();
  });

  it("treats an empty cell list as every cell missing (semantics Surprise #10)", () => {
    const none = env({ cells: [] });
    expect(judgeActual(lrp(0, Running), desired(1), none)).toBe("lost-cell");
    expect(judgeActual(lrp(0, Claimed), desired(1), none)).toBe("lost-cell");
    expect(judgeActual(lrp(0, Unclaimed), desired(1), none)).toBeUndefined();
    expect(judgeActual(lrp(0, Crashed, 0n, { crashCount: 3 }), desired(1), none)).toBeUndefined();
  });

  it("take precedence over the extra-index rule, as in the original", () => {
    expect(judgeActual(lrp(5, Running, 0n, { cellId: "cell-gone" }), desired(1), env())).toBe("lost-cell");
  });

  it("without a desired LRP are retired as undesired when the domain is fresh, and left alone when it is stale — never a crash (the original panicked here)", () => {
    const onMissingCell = lrp(0, Running, 0n, { cellId: "cell-gone" });
    expect(judgeActual(onMissingCell, undefined, env())).toBe("undesired");
    expect(judgeActual(onMissingCell, undefined, env({ domains: [] }))).toBeUndefined();
    const plan = calculateLRPConvergence({
      desired: new Map(),
      actuals: [listed(onMissingCell)],
      cells: new Set(),
      freshDomains: new Set(["cf-apps"]),
      nowNs: now(),
    });
    expect(plan.repairs.map((r) => r.repair)).toEqual(["undesired"]);
  });
});

describe("extra indices", () => {
  it("are retired only when the desired LRP's domain is fresh", () => {
    expect(judgeActual(lrp(3, Running), desired(3), env())).toBe("extra");
    expect(judgeActual(lrp(2, Running), desired(3), env())).toBeUndefined();
    expect(judgeActual(lrp(3, Running), desired(3, "stale"), env())).toBeUndefined();
  });

  it("judges freshness by the desired LRP's domain, not the actual's", () => {
    expect(judgeActual(lrp(3, Running, 0n, { domain: "stale" }), desired(3, "cf-apps"), env())).toBe("extra");
  });

  it("in a stale domain fall through to the crash and stale-unclaimed rules (Surprise #8)", () => {
    const stale = desired(1, "stale");
    expect(judgeActual(lrp(4, Crashed, MINUTE_NS, { crashCount: 3 }), stale, env())).toBe("crashed");
    expect(judgeActual(lrp(4, Unclaimed, MINUTE_NS), stale, env())).toBe("stale-unclaimed");
  });
});

describe("crashed instances", () => {
  const crashed = (count: number, ageNs: bigint) => judgeActual(lrp(0, Crashed, ageNs, { crashCount: count }), desired(1), env());

  it("restart once the restart calculator's backoff has passed", () => {
    expect(crashed(3, 30n * SECOND_NS - 1n)).toBeUndefined();
    expect(crashed(3, 30n * SECOND_NS)).toBe("crashed");
    expect(crashed(4, MINUTE_NS - 1n)).toBeUndefined();
    expect(crashed(4, MINUTE_NS)).toBe("crashed");
    expect(crashed(7, 8n * MINUTE_NS)).toBe("crashed");
    expect(crashed(8, 16n * MINUTE_NS - 1n)).toBeUndefined();
    expect(crashed(199, 16n * MINUTE_NS)).toBe("crashed");
  });

  it("restart at once below three crashes, and never from 200 on", () => {
    expect(crashed(1, 0n)).toBe("crashed");
    expect(crashed(2, 0n)).toBe("crashed");
    expect(crashed(200, 1000n * MINUTE_NS)).toBeUndefined();
  });

  it("follow the injected clock", () => {
    const record = lrp(0, Crashed, 0n, { crashCount: 5 });
    expect(judgeActual(record, desired(1), env())).toBeUndefined();
    clock.advance(2 * 60_000);
    try {
      expect(judgeActual(record, desired(1), env())).toBe("crashed");
    } finally {
      clock.advance(-2 * 60_000);
    }
  });
});

describe("unclaimed instances", () => {
  it("are re-auctioned once older than 30 s, strictly", () => {
    expect(STALE_UNCLAIMED_NS).toBe(30n * SECOND_NS);
    expect(judgeActual(lrp(0, Unclaimed, 30n * SECOND_NS), desired(1), env())).toBeUndefined();
    expect(judgeActual(lrp(0, Unclaimed, 30n * SECOND_NS + 1n), desired(1), env())).toBe("stale-unclaimed");
  });

  it("whether or not the auctioneer reported a placement error", () => {
    expect(judgeActual(lrp(0, Unclaimed, MINUTE_NS, { placementError: "insufficient resources" }), desired(1), env())).toBe("stale-unclaimed");
  });
});

describe("instances without a desired LRP", () => {
  it("are retired when their own domain is fresh, whatever their state, and left alone otherwise", () => {
    for (const state of [Unclaimed, Claimed, Running, Crashed]) {
      expect(judgeActual(lrp(0, state), undefined, env())).toBe("undesired");
      expect(judgeActual(lrp(0, state, 0n, { domain: "stale" }), undefined, env())).toBeUndefined();
    }
  });
});

describe("the whole calculation", () => {
  it("keeps only the records to repair, each with its first matching rule", () => {
    const records = [
      lrp(0, Running),
      lrp(1, Running, 0n, { cellId: "cell-gone" }),
      lrp(2, Crashed, MINUTE_NS, { crashCount: 3 }),
      lrp(3, Unclaimed, MINUTE_NS),
      lrp(4, Unclaimed, SECOND_NS),
      lrp(6, Running),
    ].map((r) => listed(r));
    const plan = calculateLRPConvergence({
      desired: new Map([["pg", desired(6)]]),
      actuals: records,
      cells: new Set(["cell-a"]),
      freshDomains: new Set(["cf-apps"]),
      nowNs: now(),
    });
    expect(plan.repairs.map((r) => [r.record.lrp.actualLrpKey?.index, r.repair])).toEqual([
      [1, "lost-cell"],
      [2, "crashed"],
      [3, "stale-unclaimed"],
      [6, "extra"],
    ]);
    expect(plan.missing).toEqual([{ processGuid: "pg", index: 5 }]);
    expect(plan.repairs[0]!.record.node.version).toBe(7);
  });
});

describe("invalid records", () => {
  it("are records that fail validation or sit under another record's key", () => {
    const good = listed(lrp(0, Running));
    expect(actualRecordProblems(good.node, good.lrp)).toEqual([]);
    const claimedWithoutCell = actualLRP("pg", 0, Claimed, { sinceNs: now(), cellId: "" });
    expect(actualRecordProblems(listed(claimedWithoutCell).node, claimedWithoutCell)).toEqual(["Invalid field: cell_id"]);
    const misplaced = { ...good.node, key: "/v1/actual/pg/9/instance" };
    expect(actualRecordProblems(misplaced, good.lrp)).toEqual(["record does not match its key"]);
  });
});

describe("cell-loss passes", () => {
  function fakeCtx(): { ctx: BBSContext; clock: ManualClock } {
    const c = new ManualClock(1_000_000);
    return { clock: c, ctx: { store: {} as Store, clock: c, logger: silentLogger } as unknown as BBSContext };
  }

  it("run one pass for losses that arrive while an older pass runs, and none for a loss a finished pass covers", async () => {
    const { ctx, clock: c } = fakeCtx();
    let passes = 0;
    let release!: () => void;
    const run = () => {
      passes++;
      return new Promise<void>((r) => (release = r));
    };
    const first = convergeLRPsCovering(ctx, c.nowMs(), run);
    c.advance(10);
    const second = convergeLRPsCovering(ctx, c.nowMs(), run);
    const third = convergeLRPsCovering(ctx, c.nowMs(), run);
    release();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    expect(passes).toBe(2);
    release();
    await Promise.all([second, third]);
    expect(passes).toBe(2);
    // An expiry that happened before the last pass began is already covered.
    await convergeLRPsCovering(ctx, c.nowMs() - 5, run);
    expect(passes).toBe(2);
  });

  it("pass a failure on to every loss waiting for that pass", async () => {
    const { ctx, clock: c } = fakeCtx();
    const failing = () => Promise.reject(new Error("store down"));
    await expect(convergeLRPsCovering(ctx, c.nowMs(), failing)).rejects.toThrow("store down");
    let ran = 0;
    await convergeLRPsCovering(ctx, c.nowMs(), async () => void ran++);
    expect(ran).toBe(1);
  });
});

describe("the scheduled function's minute", () => {
  it("runs a round every 30 s and sweeps every 5 s in between, stopping one sweep interval before the minute ends", () => {
    const plan = invocationPlan(30_000, 5_000);
    expect(plan.filter((s) => s.kind === "round").map((s) => s.atMs)).toEqual([0, 30_000]);
    expect(plan.filter((s) => s.kind === "sweep").map((s) => s.atMs)).toEqual([5_000, 10_000, 15_000, 20_000, 25_000, 35_000, 40_000, 45_000, 50_000]);
  });

  it("runs a single round for intervals of a minute or more, and no sweeps when they are off", () => {
    expect(invocationPlan(60_000, 0)).toEqual([{ atMs: 0, kind: "round" }]);
    expect(invocationPlan(90_000, 0)).toEqual([{ atMs: 0, kind: "round" }]);
    expect(invocationPlan(20_000, 0).map((s) => s.atMs)).toEqual([0, 20_000, 40_000]);
  });
});
