// The pieces every bench section shares: a BBS context over a counting client, handlers invoked with
// the API Gateway events a Lambda would receive, and small timing and statistics helpers.
import type { IncomingMessage } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { systemClock } from "../../core/clock";
import type { AuctioneerClient } from "../../core/collaborators/auctioneer";
import type { RepClient } from "../../core/collaborators/rep";
import type { BBSContext } from "../../core/context";
import { silentLogger } from "../../core/logger";
import { decodeMessage, encodeMessage } from "../../core/models/codec";
import { routeNamed } from "../../core/routes";
import type { DynamoDBCaller, Item } from "../../core/store/dynamo-client";
import { DynamoStore } from "../../core/store/dynamo-store";
import { Attr, DefaultShards, ShardSeparator, makeDynamoDBClient } from "../../core/store/dynamo-table";
import { configFromEnv } from "../../functions/_shared/config";
import { useContext } from "../../functions/_shared/dependencies";
import { apiGatewayEvent, lambdaContext } from "../../infra/local/api-gateway-event";
import { countCalls, type CountingClient } from "../support/counting-client";

export const SHARDS = DefaultShards;
const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Collaborators that answer at once and only count: the bench measures the BBS, not an auctioneer. */
export class CountingCollaborators implements AuctioneerClient, RepClient {
  lrpAuctions = 0;
  auctionedIndices = 0;
  taskAuctions = 0;
  stops = 0;
  async requestLRPAuctions(starts: { indices: number[] }[]) {
    this.lrpAuctions++;
    for (const s of starts) this.auctionedIndices += s.indices.length;
  }
  async requestTaskAuctions() {
    this.taskAuctions++;
  }
  async stopLRPInstance() {
    this.stops++;
  }
  async cancelTask() {}
}

export interface BenchContext {
  ctx: BBSContext;
  store: DynamoStore;
  counting: CountingClient;
  collaborators: CountingCollaborators;
  tableName: string;
}

/** A context as functions/_shared/dependencies.ts builds it, around a counting client of our own. */
export function benchContext(endpoint: string, tableName: string, maxSockets = 64): BenchContext {
  const client = makeDynamoDBClient({ endpoint, maxSockets });
  const counting = countCalls(client);
  const store = new DynamoStore({ client, tableName, clock: systemClock, shards: SHARDS });
  const collaborators = new CountingCollaborators();
  const ctx: BBSContext = {
    store,
    clock: systemClock,
    logger: silentLogger,
    auctioneer: collaborators,
    reps: collaborators,
    communicationTimeoutMs: 10_000,
  };
  return { ctx, store, counting, collaborators, tableName };
}

/** Makes every handler of this process run over `bench.ctx`, as a Lambda cold start would build it. */
export function installContext(bench: BenchContext): void {
  useContext(bench.ctx, { ...configFromEnv({}), tableName: bench.tableName, maxRequestBytes: 64 * 1024 * 1024 });
}

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
const handlers = new Map<string, Promise<Handler>>();

async function handlerOf(routeName: string): Promise<Handler> {
  let found = handlers.get(routeName);
  if (!found) {
    const spec = routeNamed(routeName).handler;
    const file = spec.slice(0, spec.lastIndexOf("."));
    const url = pathToFileURL(join(repositoryRoot, `${file}.ts`)).href;
    found = import(/* @vite-ignore */ url).then((mod: { handler: Handler }) => mod.handler);
    handlers.set(routeName, found);
  }
  return found;
}

/** The API Gateway v2 event infra/local's server builds for a protobuf POST. */
function protobufEvent(routeName: string, body: Uint8Array, headers: Record<string, string> = {}) {
  const route = routeNamed(routeName);
  const req = {
    url: route.path,
    method: route.method,
    httpVersion: "1.1",
    headers: { "content-type": "application/x-protobuf", host: "bbs.bench", "content-length": String(body.length), ...headers },
    socket: { remoteAddress: "127.0.0.1" },
  } as unknown as IncomingMessage;
  return apiGatewayEvent(req, Buffer.from(body.buffer, body.byteOffset, body.byteLength), `${route.method} ${route.path}`);
}

/** Invokes a route's Lambda handler with a protobuf request and extra request headers; the result as API Gateway gets it. */
export async function invokeHttp(routeName: string, request: Record<string, unknown> | undefined, headers: Record<string, string> = {}): Promise<APIGatewayProxyStructuredResultV2> {
  const route = routeNamed(routeName);
  const handler = await handlerOf(routeName);
  const body = route.request ? encodeMessage(route.request, create(route.request as DescMessage, request as never)) : new Uint8Array(0);
  return handler(protobufEvent(routeName, body, headers), lambdaContext(routeName));
}

/**
 * Invokes a route's Lambda handler (middy stack included) with a protobuf request and decodes the
 * response. Throws when the response carries a BBS error, so no failed operation counts as done.
 */
export async function invoke<Req extends DescMessage | undefined>(
  routeName: string,
  request: Req extends DescMessage ? MessageInitShape<Req> : undefined,
): Promise<{ bytes: number; response: Record<string, unknown> }> {
  const route = routeNamed(routeName);
  const handler = await handlerOf(routeName);
  const body = route.request ? encodeMessage(route.request, create(route.request, request as never)) : new Uint8Array(0);
  const result = await handler(protobufEvent(routeName, body), lambdaContext(routeName));
  if (result.statusCode !== 200) throw new Error(`${routeName}: HTTP ${result.statusCode}`);
  const bytes = Buffer.from(result.body ?? "", result.isBase64Encoded ? "base64" : "utf8");
  const response = decodeMessage(route.response!, bytes) as Record<string, unknown> & { error?: { type: number; message: string } };
  if (response.error) throw new Error(`${routeName}: BBS error ${response.error.type} ${response.error.message}`);
  return { bytes: bytes.length, response };
}

/** Invokes without decoding the (possibly huge) response; returns its size. */
export async function invokeRaw(routeName: string, request: Record<string, unknown> | undefined): Promise<number> {
  const route = routeNamed(routeName);
  const handler = await handlerOf(routeName);
  const body = route.request ? encodeMessage(route.request, create(route.request as DescMessage, request as never)) : new Uint8Array(0);
  const result = await handler(protobufEvent(routeName, body), lambdaContext(routeName));
  if (result.statusCode !== 200) throw new Error(`${routeName}: HTTP ${result.statusCode}`);
  const base64 = result.body ?? "";
  // The error field is field 1; a list response without error starts with field 2 (or is empty).
  const first = Buffer.from(base64.slice(0, 4), "base64")[0];
  if (first === 0x0a) {
    const decoded = decodeMessage(route.response!, Buffer.from(base64, "base64")) as { error?: { message: string } };
    if (decoded.error) throw new Error(`${routeName}: BBS error ${decoded.error.message}`);
  }
  return Math.floor((base64.length * 3) / 4);
}

/**
 * The floor of a root listing: every shard's strongly consistent Query in parallel, all pages, the
 * items only counted. What any reader of these items must at least do.
 */
export async function bareRead(client: DynamoDBCaller, tableName: string, roots: string[], shards = SHARDS): Promise<{ items: number; pages: number }> {
  let items = 0;
  let pages = 0;
  await Promise.all(
    roots.flatMap((root) =>
      Array.from({ length: shards }, async (_, shard) => {
        let start: Item | undefined;
        do {
          const page = await client.call("Query", {
            TableName: tableName,
            ConsistentRead: true,
            KeyConditionExpression: "#pk = :pk",
            ExpressionAttributeNames: { "#pk": Attr.pk },
            ExpressionAttributeValues: { ":pk": { S: `${root}${ShardSeparator}${String(shard).padStart(String(shards - 1).length, "0")}` } },
            ExclusiveStartKey: start,
          });
          items += page.Count ?? 0;
          pages++;
          start = page.LastEvaluatedKey;
        } while (start);
      }),
    ),
  );
  return { items, pages };
}

/**
 * Bare reads of `roots` until two in a row agree within 15 % (at most 8): DynamoDB Local reads several
 * times slower for a while after a bulk load, and a measurement then compares two kinds of weather.
 */
export async function settle(client: DynamoDBCaller, tableName: string, roots: string[]): Promise<void> {
  const bare = async () => (await timed(() => bareRead(client, tableName, roots))).ms;
  let previous = await bare();
  for (let i = 0; i < 7; i++) {
    const next = await bare();
    if (Math.abs(next - previous) <= 0.15 * Math.min(next, previous)) return;
    previous = next;
  }
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await fn();
  return { ms: performance.now() - started, result };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `work` from `workers` concurrent loops until `durationMs` has passed; returns completions. */
export async function closedLoop(workers: number, durationMs: number, work: (worker: number, iteration: number) => Promise<void>): Promise<{ done: number; ms: number }> {
  const started = performance.now();
  const deadline = started + durationMs;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await work(w, i);
        done++;
      }
    }),
  );
  return { done, ms: performance.now() - started };
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
