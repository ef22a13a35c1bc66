// Run by convergence.ts in a fresh `node --expose-gc --import tsx` process, so that the memory it
// reports is the pass's own. Five rounds of: the mess seeded again (the first round's was seeded by
// the parent), bare reads of the desired and actual roots right before and after one LRP convergence
// pass (memory sampled while it runs). A round's ratio is its pass over the median of its own bare
// reads; the round with the median ratio is reported. By rounds the pass and its limit are always
// measured in the same weather: DynamoDB Local reads several times slower for a while after a bulk
// load, and the first pass of the process also runs cold code on both sides (our decoding, DynamoDB
// Local's projection path, which no bare read takes), about 1.9× its later rounds.
// Then passes with nothing left to repair, alternated with bare reads. Prints one JSON line.
import { getHeapStatistics } from "node:v8";
import { convergeLRPs, type LRPConvergenceReport } from "../../core/convergence/lrp-convergence";
import { ActualLRPRoot, DesiredLRPRoot } from "../../core/store/keys";
import { RepairKinds, prepareConvergence } from "./convergence";
import { bareRead, benchContext, median, settle, timed } from "./harness";

const endpoint = process.env.BENCH_ENDPOINT!;
const tableName = process.env.BENCH_TABLE!;
const prefix = process.env.BENCH_PREFIX!;
const count = Number(process.env.BENCH_COUNT);
const ROUNDS = 5;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const bench = benchContext(endpoint, tableName);
const roots = [DesiredLRPRoot, ActualLRPRoot];
const bare = async () => (await timed(() => bareRead(bench.store.client, tableName, roots))).ms;

interface Round {
  passMs: number;
  bareMs: number[];
  ratio: number;
  report: LRPConvergenceReport;
  calls: Record<string, number>;
}

const baselineRss: number[] = [];
let peakHeapGrowth = 0;
const rounds: Round[] = [];
for (let round = 0; round < ROUNDS; round++) {
  if (round > 0) await prepareConvergence(bench, prefix, count);
  await settle(bench.store.client, tableName, roots);
  const bareMs = [await bare(), await bare()];
  gc();
  gc();
  baselineRss.push(process.memoryUsage.rss());
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
  peakHeapGrowth = Math.max(peakHeapGrowth, peakHeap - baselineHeap);
  const calls = bench.counting.total.summary();
  bareMs.push(await bare(), await bare());
  rounds.push({ passMs: pass.ms, bareMs, ratio: pass.ms / median(bareMs), report: pass.result, calls });
}
const peakRss = process.resourceUsage().maxRSS * 1024;
const chosen = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(ROUNDS / 2)]!;

const steadyPassMs: number[] = [];
const steadyBareMs: number[] = [];
for (let i = 0; i < 3; i++) {
  steadyPassMs.push((await timed(() => convergeLRPs(bench.ctx))).ms);
  steadyBareMs.push(await bare());
}

const report = chosen.report as unknown as Record<string, number>;
const repairs = RepairKinds.reduce((n, k) => n + (report[k] ?? 0), 0);
const out = {
  desiredLRPs: report.desiredLRPs,
  actualLRPs: report.actualLRPs,
  passMs: chosen.passMs,
  bareMs: median(chosen.bareMs),
  ratio: chosen.ratio,
  steadyPassMs: median(steadyPassMs),
  steadyBareMs: median(steadyBareMs),
  steadyRatio: median(steadyPassMs) / median(steadyBareMs),
  repairs,
  baselineRssMB: median(baselineRss) / 2 ** 20,
  peakRssMB: peakRss / 2 ** 20,
  peakHeapGrowthMB: peakHeapGrowth / 2 ** 20,
  calls: chosen.calls,
  report,
  samples: {
    rounds: rounds.map((r) => ({ passMs: r.passMs, bareMs: r.bareMs, ratio: r.ratio, repairs: r.report })),
    steadyPassMs,
    steadyBareMs,
  },
};
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
