// Run by convergence.ts in a fresh `node --expose-gc --import tsx` process, so that the memory it
// reports is the pass's own. Bare reads of the desired and actual roots before and after one LRP
// convergence pass (memory sampled while it runs), then passes with nothing left to repair alternated
// with bare reads. Prints one JSON line.
import { getHeapStatistics } from "node:v8";
import { convergeLRPs } from "../../core/convergence/lrp-convergence";
import { ActualLRPRoot, DesiredLRPRoot } from "../../core/store/keys";
import { bareRead, benchContext, median, timed } from "./harness";

const endpoint = process.env.BENCH_ENDPOINT!;
const tableName = process.env.BENCH_TABLE!;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const bench = benchContext(endpoint, tableName);
const roots = [DesiredLRPRoot, ActualLRPRoot];
const bare = async () => (await timed(() => bareRead(bench.store.client, tableName, roots))).ms;

// Warm-up: right after a bulk load DynamoDB Local reads several times slower for a while.
for (let i = 0; i < 3; i++) await bare();
const bareMs = [await bare(), await bare()];

gc();
gc();
const baselineRss = process.memoryUsage.rss();
const baselineHeap = getHeapStatistics().used_heap_size;
let peakHeap = baselineHeap;
const sampler = setInterval(() => {
  const used = getHeapStatistics().used_heap_size;
  if (used > peakHeap) peakHeap = used;
}, 2);
bench.counting.total.clear();
const pass = await timed(() => convergeLRPs(bench.ctx));
clearInterval(sampler);
peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
const calls = bench.counting.total.summary();
const peakRss = process.resourceUsage().maxRSS * 1024;
bareMs.push(await bare(), await bare());

const steadyPassMs: number[] = [];
const steadyBareMs: number[] = [];
for (let i = 0; i < 3; i++) {
  steadyPassMs.push((await timed(() => convergeLRPs(bench.ctx))).ms);
  steadyBareMs.push(await bare());
}

const report = pass.result as unknown as Record<string, number>;
const repairs = ["missing", "extra", "undesired", "crashedRestarted", "staleUnclaimed", "lostCell", "invalidActualsDeleted", "invalidDesiredsDeleted"].reduce(
  (n, k) => n + (report[k] ?? 0),
  0,
);
const out = {
  desiredLRPs: report.desiredLRPs,
  actualLRPs: report.actualLRPs,
  passMs: pass.ms,
  bareMs: median(bareMs),
  ratio: pass.ms / median(bareMs),
  steadyPassMs: median(steadyPassMs),
  steadyBareMs: median(steadyBareMs),
  steadyRatio: median(steadyPassMs) / median(steadyBareMs),
  repairs,
  baselineRssMB: baselineRss / 2 ** 20,
  peakRssMB: peakRss / 2 ** 20,
  peakHeapGrowthMB: (peakHeap - baselineHeap) / 2 ** 20,
  calls,
  report,
  samples: { bareMs, steadyPassMs, steadyBareMs },
};
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
