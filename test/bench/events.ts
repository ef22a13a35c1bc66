// Event latency: from the start of a store write to the arrival of its SSE frame at a subscriber of
// GET /v1/events, through the whole local path (DynamoDB Local's stream, the stream poller standing in
// for Lambda's event source mapping, the stream consumer appending to the event log, the events
// function long-polling the log). Writes are paced (open loop), one actual LRP created per write.
import { request } from "node:http";
import { encodeActualLRP, actualLRPWriteOptions } from "../../core/actual-lrps";
import { ActualLRPCreatedEventSchema } from "../../core/gen/models/events_pb";
import { decodeMessage } from "../../core/models/codec";
import { newUnclaimedActualLRP, actualLRPKey } from "../../core/models/actual-lrp";
import { KeyExistsError } from "../../core/store/errors";
import { actualLRPInstanceKey } from "../../core/store/keys";
import { freePort } from "../../infra/local/dynamodb-local";
import { startLocalStack } from "../../infra/local/stack";
import { DOMAIN } from "./fixtures";
import { benchContext, installContext, log, percentile, sleep } from "./harness";

export interface EventLatencyResult {
  changes: number;
  ratePerSecond: number;
  /** Changes sent (and waited for) before measuring, at the same rate. */
  warmup: number;
  received: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Write acknowledgement alone (p50), for scale. */
  writeP50Ms: number;
  /** Writes DynamoDB Local timed out on its item lock and the bench repeated (latency counts from the first try). */
  writeRetries: number;
}

/** Minimal SSE reader that timestamps each frame on arrival. */
function subscribe(url: string, onFrame: (event: string, data: string, at: number) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /v1/events: HTTP ${res.statusCode}`));
      let pending = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const at = performance.now();
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf("\n\n")) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          let event = "";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length > 0) onFrame(event, data.join("\n"), at);
        }
      });
      resolve(() => {
        req.destroy();
        res.destroy();
      });
    });
    req.on("error", reject);
    req.end();
  });
}

export async function measureEventLatency(endpoint: string, changes = 1000, ratePerSecond = 50, warmup = 300): Promise<EventLatencyResult> {
  const tableName = "bench-events";
  const bench = benchContext(endpoint, tableName);
  // The stack's handlers (stream consumer, events function) run over this context's table.
  installContext(bench);
  let errors = 0;
  const stack = await startLocalStack({
    host: "127.0.0.1",
    port: await freePort(),
    dynamodbEndpoint: endpoint,
    tableName,
    onError: (error) => {
      if (errors++ < 3) log(`events: local stack error: ${error instanceof Error ? error.message : String(error)}`);
    },
  });
  const run = Math.random().toString(36).slice(2, 8);
  let retries = 0;
  const sent = new Map<string, number>();
  const timeline: [number, number][] = [];
  const latencies: number[] = [];
  const writes: number[] = [];
  let closeStream: (() => void) | undefined;
  try {
    closeStream = await subscribe(`${stack.url}/v1/events`, (event, data, at) => {
      if (event !== "actual_lrp_created") return;
      const decoded = decodeMessage(ActualLRPCreatedEventSchema, Buffer.from(data, "base64"));
      const guid = decoded.actualLrpGroup?.instance?.actualLrpKey?.processGuid ?? "";
      const t0 = sent.get(guid);
      if (t0 !== undefined) {
        latencies.push(at - t0);
        timeline.push([t0, at - t0]);
        sent.delete(guid);
      }
    });
    await sleep(500); // the subscription reaches the log head
    // DynamoDB Local times a write out when the stream consumer's transaction holds the item lock too
    // long ("…will succeed in actual DynamoDB"): try again; a create that did land reports KeyExists.
    const createWithRetries = async (key: string, value: Uint8Array, options: ReturnType<typeof actualLRPWriteOptions>) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await bench.store.create(key, value, options);
          return;
        } catch (error) {
          if (error instanceof KeyExistsError) return;
          if (attempt >= 5) throw error;
          retries++;
          await sleep(20 * attempt);
        }
      }
    };
    // Paced writes of one new actual LRP each; `track` ones have their frame's latency recorded.
    const burst = async (label: string, count: number, track: boolean) => {
      const started = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        const wait = started + (i * 1000) / ratePerSecond - performance.now();
        if (wait > 0) await sleep(wait);
        const guid = `ev-${run}-${label}-${String(i).padStart(5, "0")}`;
        const lrp = newUnclaimedActualLRP(actualLRPKey(guid, 0, DOMAIN), BigInt(Date.now()) * 1_000_000n);
        const t0 = performance.now();
        sent.set(guid, t0);
        inflight.push(
          createWithRetries(actualLRPInstanceKey(guid, 0), encodeActualLRP(lrp), actualLRPWriteOptions(lrp)).then(() => {
            if (track) writes.push(performance.now() - t0);
          }),
        );
      }
      await Promise.all(inflight);
      const deadline = performance.now() + 30_000;
      while (sent.size > 0 && performance.now() < deadline) await sleep(20);
    };
    // Warm-up (not counted): DynamoDB Local's JIT makes its first transactions several times slower.
    await burst("warm", warmup, false);
    latencies.length = 0;
    timeline.length = 0;
    sent.clear();
    await burst("run", changes, true);
  } finally {
    closeStream?.();
    await stack.stop();
  }
  if (process.env.BENCH_EVENTS_TIMELINE) {
    const t = timeline.sort((a, b) => a[0] - b[0]);
    process.stderr.write(t.map(([t0, l]) => `${(t0 - t[0]![0]).toFixed(0)}:${l.toFixed(0)}`).join(" ") + "\n");
  }
  const result: EventLatencyResult = {
    changes,
    ratePerSecond,
    warmup,
    received: latencies.length,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
    writeP50Ms: percentile(writes, 50),
    writeRetries: retries,
  };
  log(`events: ${result.received}/${changes} frames, p50 ${result.p50Ms.toFixed(0)} ms, p99 ${result.p99Ms.toFixed(0)} ms`);
  return result;
}
