// `npm run bench`: what each BBS operation costs, measured against its physical limit — the least
// DynamoDB work it could do, timed side by side on the same DynamoDB Local in the same run (absolute
// times on a shared machine are noise; these ratios are not). Prints a table and writes
// bench-results.json. See the README's "Benchmarks" section.
//
//   BENCH_SECTIONS=lifecycle,listing,convergence,events,coldinit   (default: all)
//   BENCH_LARGE=50000 BENCH_SMALL=10000                             (listing sizes)
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem, type as osType, release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDynamoDBLocal } from "../../infra/local/dynamodb-local";
import { measureColdInit, type ColdInitResult } from "./cold-init";
import { measureConvergence, prepareConvergence, type ConvergenceResult } from "./convergence";
import { measureEventLatency, type EventLatencyResult } from "./events";
import { bulkLoad, lrpNodes, taskNodes } from "./fixtures";
import { SHARDS, benchContext, installContext, log } from "./harness";
import { createTestTable } from "../support/store-table";
import { measureLifecycle, type LifecycleResult } from "./lifecycle";
import { measureListings, type ListingResult } from "./listing";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sections = new Set((process.env.BENCH_SECTIONS ?? "lifecycle,listing,convergence,events,coldinit").split(","));
const SMALL = Number(process.env.BENCH_SMALL ?? 10_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 50_000);
const PREFIX = "pg";

export const Goals = {
  lifecycleRatio: 0.6,
  listRatio: 1.3,
  convergenceRatio: 1.5,
  eventP99Ms: 1000,
} as const;

interface Results {
  date: string;
  machine: Record<string, unknown>;
  durationS?: number;
  lifecycle?: LifecycleResult;
  listings: ListingResult[];
  convergence?: ConvergenceResult;
  events?: EventLatencyResult;
  coldInit?: ColdInitResult;
  errors: Record<string, string>;
}

const machine = () => ({
  cpu: cpus()[0]?.model ?? "unknown",
  cpus: cpus().length,
  memoryGB: Number((totalmem() / 2 ** 30).toFixed(1)),
  os: `${osType()} ${release()}`,
  node: process.version,
  loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
});

async function section<T>(name: string, results: Results, fn: () => Promise<T>): Promise<T | undefined> {
  if (!sections.has(name)) return undefined;
  const started = performance.now();
  log(`${name}: start`);
  try {
    const out = await fn();
    log(`${name}: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return out;
  } catch (error) {
    const message = error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error);
    log(`${name}: FAILED ${message}`);
    results.errors[name] = message.split("\n")[0]!;
    return undefined;
  }
}

// ---- The printed table ----

const f0 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(0));
const f2 = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(2));
const verdict = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? "met" : "MISSED");

function printTable(r: Results): void {
  const rows: string[][] = [["figure", "measured", "limit (side by side)", "ratio", "goal", ""]];
  if (r.lifecycle) {
    const l = r.lifecycle;
    rows.push([
      `lifecycle desire→claim→start→crash, ${l.callers} callers`,
      `${f2(l.cyclesPerSecond)} cycles/s`,
      `${f0(l.rawUpdatesPerSecond)} cond. UpdateItem/s`,
      f2(l.ratio),
      `≥ ${Goals.lifecycleRatio} (5 writes/cycle)`,
      verdict(l.ratio >= Goals.lifecycleRatio),
    ]);
  }
  for (const x of r.listings) {
    const large = x.items >= LARGE;
    rows.push([
      `list ${x.resource} @${x.items}`,
      `${f0(x.handlerMs)} ms (core ${f0(x.coreMs)}${x.legacyCoreMs === undefined ? "" : `; before fix ${f0(x.legacyCoreMs)} = ${f2(x.legacyRatio)}×`})`,
      `${f0(x.bareMs)} ms bare read`,
      f2(x.ratio),
      large ? `≤ ${Goals.listRatio}` : "",
      large ? verdict(x.ratio <= Goals.listRatio) : "",
    ]);
  }
  if (r.convergence) {
    const c = r.convergence;
    rows.push([
      `LRP convergence pass @${c.actualLRPs} actual / ${c.desiredLRPs} desired, ${c.repairs} repairs (median of ${c.samples.rounds.length} rounds)`,
      `${f0(c.passMs)} ms`,
      `${f0(c.bareMs)} ms bare read`,
      f2(c.ratio),
      `≤ ${Goals.convergenceRatio}`,
      verdict(c.ratio <= Goals.convergenceRatio),
    ]);
    rows.push([
      `  same pass, nothing left to repair`,
      `${f0(c.steadyPassMs)} ms`,
      `${f0(c.steadyBareMs)} ms bare read`,
      f2(c.steadyRatio),
      "",
      "",
    ]);
    rows.push(["  its peak memory", `${f0(c.peakHeapGrowthMB)} MB heap growth, ${f0(c.peakRssMB)} MB peak RSS`, `${f0(c.baselineRssMB)} MB RSS before`, "", "", ""]);
  }
  if (r.events) {
    const e = r.events;
    rows.push([
      `event latency write→SSE frame, ${e.changes} changes at ${e.ratePerSecond}/s (after ${e.warmup})`,
      `p50 ${f0(e.p50Ms)} ms, p99 ${f0(e.p99Ms)} ms`,
      `write alone p50 ${f0(e.writeP50Ms)} ms`,
      "",
      `p99 ≤ ${Goals.eventP99Ms} ms`,
      verdict(e.received === e.changes && e.p99Ms <= Goals.eventP99Ms),
    ]);
  }
  if (r.coldInit) {
    const c = r.coldInit;
    rows.push([
      `cold module init, ${c.built} bundles`,
      `HTTP median ${f0(c.httpMedianMs)} ms, worst ${f0(c.httpMaxMs)} ms (${c.httpMaxId})`,
      `largest HTTP bundle ${f0(c.httpMaxEagerKB)} KB`,
      "",
      "",
      "",
    ]);
  }
  for (const [name, message] of Object.entries(r.errors)) rows.push([`${name}: FAILED`, message.slice(0, 100), "", "", "", ""]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows.slice(1)) console.log(line(row));

  const perOp = r.lifecycle?.perOperation;
  if (perOp) {
    console.log("\nDynamoDB calls per operation (counting client):");
    for (const [op, calls] of Object.entries(perOp)) console.log(`  ${op.padEnd(8)} ${JSON.stringify(calls)}`);
    console.log(`  per cycle (all ${r.lifecycle!.rounds} rounds): ${r.lifecycle!.callsPerCycleTotal} calls ${JSON.stringify(r.lifecycle!.callsPerCycle)}`);
    for (const x of r.listings) console.log(`  list ${x.resource} @${x.items}: ${JSON.stringify(x.calls)} (bare read: ${x.barePages} pages)`);
    if (r.convergence) console.log(`  convergence pass: ${JSON.stringify(r.convergence.calls)}`);
  }
  if (r.convergence) {
    const { report, expected } = r.convergence;
    const keys = Object.keys(expected) as (keyof typeof expected)[];
    console.log(`\nConvergence repairs (found / seeded): ${keys.map((k) => `${k} ${report[k]}/${expected[k]}`).join(", ")}; lost races ${report.lostRaces}, failures ${report.failures}`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const results: Results = { date: new Date().toISOString(), machine: machine(), listings: [], errors: {} };
  const ddb = await startDynamoDBLocal();
  try {
    await section("lifecycle", results, async () => {
      const bench = benchContext(ddb.endpoint, "bench-lifecycle");
      await createTestTable(bench.store.client, bench.tableName, { stream: true });
      installContext(bench);
      results.lifecycle = await measureLifecycle(bench);
    });

    const bench = benchContext(ddb.endpoint, "bench");
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    if (sections.has("listing") || sections.has("convergence")) {
      await createTestTable(bench.store.client, bench.tableName, { stream: false });
      installContext(bench);
      const rate = await bulkLoad(bench.store.client, bench.tableName, SHARDS, (function* () {
        yield* lrpNodes(PREFIX, 0, SMALL, nowNs);
        yield* taskNodes(0, SMALL, nowNs);
      })());
      log(`loaded ${SMALL} desired + ${SMALL} actual LRPs + ${SMALL} tasks (${rate.toFixed(0)} items/s)`);
    }
    await section("listing", results, async () => {
      results.listings.push(...(await measureListings(bench, SMALL, 3)));
    });
    if (sections.has("listing") || sections.has("convergence")) {
      installContext(bench);
      const rate = await bulkLoad(bench.store.client, bench.tableName, SHARDS, (function* () {
        yield* lrpNodes(PREFIX, SMALL, LARGE - SMALL, nowNs);
        yield* taskNodes(SMALL, LARGE - SMALL, nowNs);
      })());
      log(`loaded up to ${LARGE} of each (${rate.toFixed(0)} items/s)`);
    }
    await section("listing", results, async () => {
      results.listings.push(...(await measureListings(bench, LARGE, 5, true)));
    });
    await section("convergence", results, async () => {
      const expected = await prepareConvergence(bench, PREFIX, LARGE);
      results.convergence = await measureConvergence(ddb.endpoint, bench.tableName, PREFIX, LARGE, expected);
    });
  } finally {
    await ddb.stop();
  }
  // On a DynamoDB Local of its own: the one above holds 200,000 items by now and is slower to write.
  await section("events", results, async () => {
    const fresh = await startDynamoDBLocal();
    try {
      results.events = await measureEventLatency(fresh.endpoint);
    } finally {
      await fresh.stop();
    }
  });
  // Last, with DynamoDB Local gone: fresh node processes importing bundles are sensitive to CPU load.
  await section("coldinit", results, async () => {
    results.coldInit = await measureColdInit();
  });

  results.durationS = Math.round((performance.now() - started) / 1000);
  const m = results.machine;
  console.log(`\nBBS benchmarks — ${results.date.slice(0, 10)}, ${m.cpus} × ${m.cpu}, ${m.memoryGB} GB, ${m.os}, Node ${m.node}, load ${(m.loadAverage as number[]).join(" ")}; ${results.durationS} s`);
  console.log(`DynamoDB Local (in memory) on loopback; every ratio is measured side by side in this run.\n`);
  printTable(results);
  const out = join(root, "bench-results.json");
  writeFileSync(out, `${JSON.stringify(results, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
  console.log(`\nresults: ${out}`);
  if (Object.keys(results.errors).length > 0) process.exitCode = 1;
}

await main();
process.exit(process.exitCode ?? 0);
