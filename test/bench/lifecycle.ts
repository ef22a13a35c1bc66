// Lifecycle throughput: desire → claim → start → crash cycles through the Lambda handlers (middy stack,
// API Gateway events, protobuf bodies), side by side with raw conditional UpdateItem calls on the same
// DynamoDB Local and table, both from 16 concurrent callers, in alternating rounds.
import { create } from "@bufbuild/protobuf";
import { ActualLRPInstanceKeySchema, ActualLRPNetInfoSchema, PortMappingSchema } from "../../core/gen/models/actual_lrp_pb";
import { actualLRPKey } from "../../core/models/actual-lrp";
import { Attr } from "../../core/store/dynamo-table";
import { locateKey } from "../../core/store/dynamo-store";
import { CallTally } from "../support/counting-client";
import { DOMAIN, bulkLoad, desiredLRP } from "./fixtures";
import { SHARDS, closedLoop, invoke, log, median, type BenchContext } from "./harness";

export const CALLERS = 16;
/**
 * The item writes a cycle cannot avoid: desire (the desired LRP and its one instance), claim, start and
 * crash one conditional write each (anchors §1.6). The cycle rate times this, over the raw conditional
 * UpdateItem rate, is the share of the physical limit the handler path reaches.
 */
export const FLOOR_WRITES_PER_CYCLE = 5;

export interface LifecycleResult {
  callers: number;
  rounds: number;
  cyclesPerSecond: number;
  rawUpdatesPerSecond: number;
  /** Median over rounds of cycles/s × 5 / the raw rate of the rounds either side; the goal is ≥ 0.6. */
  ratio: number;
  /** DynamoDB calls per cycle, by kind, measured by the counting client. */
  callsPerCycle: Record<string, number>;
  callsPerCycleTotal: number;
  perOperation: Record<string, Record<string, number>>;
  samples: { cyclesPerSecond: number[]; rawUpdatesPerSecond: number[]; ratios: number[] };
}

const RawRoot = "/v1/benchraw";
const RawItemsPerCaller = 32;

async function rawRound(bench: BenchContext, ms: number, versions: number[][], value: string): Promise<number> {
  const { done, ms: took } = await closedLoop(CALLERS, ms, async (w, i) => {
    const slot = i % RawItemsPerCaller;
    const { pk, sk } = locateKey(`${RawRoot}/raw-${w}-${slot}/0/instance`, SHARDS);
    const expected = versions[w]![slot]!;
    await bench.store.client.call("UpdateItem", {
      TableName: bench.tableName,
      Key: { [Attr.pk]: { S: pk }, [Attr.sk]: { S: sk } },
      UpdateExpression: "SET #value = :value, #version = #version + :one",
      ConditionExpression: "#version = :expected",
      ExpressionAttributeNames: { "#value": Attr.value, "#version": Attr.version },
      ExpressionAttributeValues: { ":value": { B: value }, ":one": { N: "1" }, ":expected": { N: String(expected) } },
      ReturnValues: "ALL_NEW",
    });
    versions[w]![slot] = expected + 1;
  });
  return done / (took / 1000);
}

const instanceKey = (guid: string, w: number) => create(ActualLRPInstanceKeySchema, { instanceGuid: `ig-${guid}`, cellId: `cell-${w}` });
const netInfo = create(ActualLRPNetInfoSchema, { address: "10.244.16.12", ports: [create(PortMappingSchema, { containerPort: 8080, hostPort: 61001 })] });

async function cycle(guid: string, w: number, tally?: Map<string, CallTally>, bench?: BenchContext): Promise<void> {
  const key = actualLRPKey(guid, 0, DOMAIN);
  const ik = instanceKey(guid, w);
  const steps: [string, () => Promise<unknown>][] = [
    ["desire", () => invoke("DesireDesiredLRP", { desiredLrp: desiredLRP(guid) })],
    ["claim", () => invoke("ClaimActualLRP", { processGuid: guid, index: 0, actualLrpInstanceKey: ik })],
    ["start", () => invoke("StartActualLRP", { actualLrpKey: key, actualLrpInstanceKey: ik, actualLrpNetInfo: netInfo })],
    ["crash", () => invoke("CrashActualLRP", { actualLrpKey: key, actualLrpInstanceKey: ik, errorMessage: "APP/PROC/WEB: Exited with status 1" })],
  ];
  for (const [name, step] of steps) {
    if (tally && bench) tally.set(name, (await bench.counting.track(step)).calls);
    else await step();
  }
}

export async function measureLifecycle(bench: BenchContext, rounds = 5, rawMs = 3000, cycleMs = 5000): Promise<LifecycleResult> {
  // Raw items: a value the size of a RUNNING actual LRP record.
  const value = Buffer.alloc(190, 7).toString("base64");
  await bulkLoad(
    bench.store.client,
    bench.tableName,
    SHARDS,
    (function* () {
      for (let w = 0; w < CALLERS; w++)
        for (let s = 0; s < RawItemsPerCaller; s++) yield { key: `${RawRoot}/raw-${w}-${s}/0/instance`, value: Buffer.alloc(190, 7) };
    })(),
  );
  const loadedVersion = Number(
    (await bench.store.get(`${RawRoot}/raw-0-0/0/instance`)).version,
  );
  const versions = Array.from({ length: CALLERS }, () => new Array<number>(RawItemsPerCaller).fill(loadedVersion));

  // What one cycle costs, operation by operation (and a warm-up of every handler).
  const run = Math.random().toString(36).slice(2, 8);
  const perOperation = new Map<string, CallTally>();
  await cycle(`lc-${run}-probe`, 0, perOperation, bench);

  // Warm-up: DynamoDB Local's JIT more than doubles its rate over the first seconds.
  await rawRound(bench, 4000, versions, value);
  await closedLoop(CALLERS, 10000, (w, i) => cycle(`lc-${run}-warm-${w}-${i}`, w));
  await rawRound(bench, 2000, versions, value);

  // raw, cycles, raw, cycles, …, raw: each cycle round is judged against the raw rounds either side.
  const cyclesPerSecond: number[] = [];
  const rawUpdatesPerSecond: number[] = [await rawRound(bench, rawMs, versions, value)];
  const ratios: number[] = [];
  const during = new CallTally();
  let cycles = 0;
  for (let round = 0; round < rounds; round++) {
    const before = bench.counting.total.calls.length;
    const { done, ms } = await closedLoop(CALLERS, cycleMs, (w, i) => cycle(`lc-${run}-${round}-${w}-${i}`, w));
    for (const call of bench.counting.total.calls.slice(before)) during.add(call);
    cycles += done;
    cyclesPerSecond.push(done / (ms / 1000));
    rawUpdatesPerSecond.push(await rawRound(bench, rawMs, versions, value));
    const raw = (rawUpdatesPerSecond.at(-1)! + rawUpdatesPerSecond.at(-2)!) / 2;
    ratios.push((cyclesPerSecond.at(-1)! * FLOOR_WRITES_PER_CYCLE) / raw);
    log(`lifecycle round ${round + 1}: handlers ${cyclesPerSecond.at(-1)!.toFixed(1)} cycles/s, raw ${raw.toFixed(0)} UpdateItem/s → ${ratios.at(-1)!.toFixed(2)}`);
  }
  const cps = median(cyclesPerSecond);
  const raw = median(rawUpdatesPerSecond);
  const callsPerCycle = Object.fromEntries(Object.entries(during.summary()).map(([k, n]) => [k, Number((n / cycles).toFixed(2))]));
  return {
    callers: CALLERS,
    rounds,
    cyclesPerSecond: cps,
    rawUpdatesPerSecond: raw,
    ratio: median(ratios),
    callsPerCycle,
    callsPerCycleTotal: Number((during.total / cycles).toFixed(2)),
    perOperation: Object.fromEntries([...perOperation].map(([k, t]) => [k, t.summary()])),
    samples: { cyclesPerSecond, rawUpdatesPerSecond, ratios },
  };
}
