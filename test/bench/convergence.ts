// One LRP convergence pass over the 50k LRPs, with a realistic mix of inconsistencies (about 0.6 % of
// instances need a repair), side by side with the bare strongly consistent read of the same items.
// The measurement runs in a fresh child process (convergence-child.ts), so its peak memory is the
// pass's own and not the bulk loader's.
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { upsertCellPresence } from "../../core/cells";
import type { LRPConvergenceReport } from "../../core/convergence/lrp-convergence";
import { mapLimit } from "../../core/context";
import type { WriteRequest } from "../../core/store/dynamo-client";
import { locateKey } from "../../core/store/dynamo-store";
import { Attr } from "../../core/store/dynamo-table";
import { upsertDomain } from "../../core/domains";
import { ActualLRPState } from "../../core/models/actual-lrp";
import { actualLRPInstanceKey, desiredLRPKey } from "../../core/store/keys";
import { create } from "@bufbuild/protobuf";
import { CellPresenceSchema } from "../../core/gen/models/cell_presence_pb";
import { CELLS, DOMAIN, SECOND_NS, actualLRP, actualNode, bulkLoad, cellId, desiredLRP, desiredNode, processGuid, type PlainNode } from "./fixtures";
import { SHARDS, log, type BenchContext } from "./harness";

/** The report's counts of repairs, which the bench seeds and checks. */
export const RepairKinds = [
  "missing",
  "extra",
  "undesired",
  "crashedRestarted",
  "staleUnclaimed",
  "lostCell",
  "invalidActualsDeleted",
  "invalidDesiredsDeleted",
] as const satisfies readonly (keyof LRPConvergenceReport)[];

/** What the pass should find, by the report's names. */
export type ExpectedRepairs = Pick<LRPConvergenceReport, (typeof RepairKinds)[number]>;

export interface ConvergenceResult {
  desiredLRPs: number;
  actualLRPs: number;
  passMs: number;
  bareMs: number;
  /** pass / bare read of the same items (bare reads just before and after it), the median of three rounds; the goal is ≤ 1.5. */
  ratio: number;
  /** A pass over the same items once they are consistent (nothing to repair): the gathering alone. */
  steadyPassMs: number;
  steadyBareMs: number;
  steadyRatio: number;
  repairs: number;
  /** Resident set size: before the pass (after a GC) and the most the process ever held. */
  baselineRssMB: number;
  peakRssMB: number;
  /** The most the JS heap grew above its post-GC baseline during the pass. */
  peakHeapGrowthMB: number;
  calls: Record<string, number>;
  report: Record<string, number>;
  expected: ExpectedRepairs;
  samples: { rounds: { passMs: number; bareMs: number[]; ratio: number; repairs: Record<string, number> }[]; steadyPassMs: number[]; steadyBareMs: number[] };
}

const NOW_NS = () => BigInt(Date.now()) * 1_000_000n;

/**
 * Turns the loaded LRPs `prefix-0 … prefix-(count-1)` (one RUNNING instance each) into a realistic
 * mess, and registers the cells and the fresh domain. Returns what a pass should repair.
 */
export async function prepareConvergence(bench: BenchContext, prefix: string, count: number): Promise<ExpectedRepairs> {
  const now = NOW_NS();
  const puts: PlainNode[] = [];
  const deletes: string[] = [];
  const expected = Object.fromEntries(RepairKinds.map((kind) => [kind, 0])) as ExpectedRepairs;
  // Per 1,000 LRPs: 2 instances lost, 1 crashed past its backoff, 1 UNCLAIMED for a minute (the
  // auctioneer lost it), 1 on a cell that is gone, 1 extra index; and one undecodable record per
  // 10,000. About 0.6 % of instances need a repair: a busy pass (a lost cell, a rolling deploy).
  for (let i = 0; i < count; i++) {
    const guid = processGuid(prefix, i);
    const slot = i % 1000;
    if (slot === 1 || slot === 501) {
      deletes.push(actualLRPInstanceKey(guid, 0)); // the instance was lost: missing
      expected.missing++;
    } else if (slot === 3) {
      // crashed a fourth time two minutes ago: past its 60 s backoff
      puts.push(actualNode(actualLRP(guid, 0, { state: ActualLRPState.Crashed, sinceNs: now - 120n * SECOND_NS, crashCount: 4 })));
      expected.crashedRestarted++;
    } else if (slot === 5) {
      puts.push(actualNode(actualLRP(guid, 0, { state: ActualLRPState.Unclaimed, sinceNs: now - 60n * SECOND_NS })));
      expected.staleUnclaimed++;
    } else if (slot === 7) {
      puts.push(actualNode(actualLRP(guid, 0, { state: ActualLRPState.Running, cell: "cell-gone", sinceNs: now - 3600n * SECOND_NS })));
      expected.lostCell++;
    } else if (slot === 9) {
      puts.push(actualNode(actualLRP(guid, 1, { state: ActualLRPState.Running, cell: cellId(i + 1), sinceNs: now - 3600n * SECOND_NS })));
      expected.extra++;
    } else if (i % 10000 === 11) {
      puts.push({ key: actualLRPInstanceKey(guid, 0), value: Uint8Array.of(0x02, 0xff, 0xff, 0xff) });
      expected.invalidActualsDeleted++;
      expected.missing++; // deleted as invalid first, then created again in the same pass
    }
  }
  // Instances nobody desires (an app deleted while its cell was away).
  for (let k = 0; k < count / 2000; k++) {
    puts.push(actualNode(actualLRP(processGuid("undesired", k), 0, { state: ActualLRPState.Running, cell: cellId(k), sinceNs: now - 3600n * SECOND_NS })));
    expected.undesired++;
  }
  // Desired LRPs that no longer decode (their instance becomes undesired).
  for (let k = 0; k < 2; k++) {
    const guid = processGuid("corrupt", k);
    puts.push({ key: desiredLRPKey(guid), value: Uint8Array.of(0x02, 0x0a, 0x7f) });
    puts.push(actualNode(actualLRP(guid, 0, { state: ActualLRPState.Running, cell: cellId(k), sinceNs: now - 3600n * SECOND_NS })));
    expected.invalidDesiredsDeleted++;
    expected.undesired++;
  }
  await bulkLoad(bench.store.client, bench.tableName, SHARDS, puts);
  const deleteRequests: WriteRequest[] = deletes.map((key) => {
    const { pk, sk } = locateKey(key, SHARDS);
    return { DeleteRequest: { Key: { [Attr.pk]: { S: pk }, [Attr.sk]: { S: sk } } } };
  });
  for (let i = 0; i < deleteRequests.length; i += 25) {
    let pending: WriteRequest[] | undefined = deleteRequests.slice(i, i + 25);
    while (pending && pending.length > 0) {
      const out: { UnprocessedItems?: Record<string, WriteRequest[]> } = await bench.store.client.call("BatchWriteItem", {
        RequestItems: { [bench.tableName]: pending },
      });
      pending = out.UnprocessedItems?.[bench.tableName];
    }
  }
  // Every cell of the benchmark is present, for the length of the run; the domain is fresh.
  await mapLimit(
    Array.from({ length: CELLS }, (_, i) => i),
    32,
    (i) => upsertCellPresence(bench.ctx, create(CellPresenceSchema, { cellId: cellId(i), repAddress: `http://cell-${i}.bench:1800`, zone: `z${i % 3}` }), 3600),
  );
  await upsertDomain(bench.ctx, DOMAIN, 3600);
  return expected;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Runs convergence-child.ts in a fresh Node process (with --expose-gc) and returns what it measured. */
export function measureConvergence(endpoint: string, tableName: string, prefix: string, count: number, expected: ExpectedRepairs): Promise<ConvergenceResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--expose-gc", "--import", "tsx", join(here, "convergence-child.ts")],
      { env: { ...process.env, BENCH_ENDPOINT: endpoint, BENCH_TABLE: tableName, BENCH_PREFIX: prefix, BENCH_COUNT: String(count) }, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) => {
        if (stderr) process.stderr.write(stderr);
        if (error) return reject(error);
        const last = stdout.trim().split("\n").at(-1) ?? "";
        try {
          const measured = JSON.parse(last) as Omit<ConvergenceResult, "expected">;
          log(
            `convergence: pass ${measured.passMs.toFixed(0)} ms, bare ${measured.bareMs.toFixed(0)} ms → ${measured.ratio.toFixed(2)}; ` +
              `nothing to repair: ${measured.steadyPassMs.toFixed(0)} / ${measured.steadyBareMs.toFixed(0)} ms → ${measured.steadyRatio.toFixed(2)}; peak RSS ${measured.peakRssMB.toFixed(0)} MB`,
          );
          resolve({ ...measured, expected });
        } catch (parseError) {
          reject(new Error(`convergence child printed no result: ${last.slice(0, 500)}`, { cause: parseError }));
        }
      },
    );
  });
}

export { NOW_NS };
