// The local BBS: DynamoDB Local (unless an endpoint is given), the table exactly as deployed, and
// every route of the route table served by its own handler on one address.
import { createStoreTable, makeDynamoDBClient } from "../../core/store/dynamo-table";
import { parseDurationMs } from "../../functions/_shared/config";
import { startDynamoDBLocal, type DynamoDBLocal } from "./dynamodb-local";
import { loadHandler, startHttpServer } from "./http-server";
import { localStreamingServer } from "./lambda-streaming";
import { startStreamPoller } from "./stream-poller";

export interface LocalStackOptions {
  host?: string;
  port?: number;
  /** Use this DynamoDB instead of starting DynamoDB Local. */
  dynamodbEndpoint?: string;
  tableName?: string;
  /** Where DynamoDB Local keeps its data; ignored when inMemory. */
  dataDir?: string;
  inMemory?: boolean;
  auctioneerURL?: string;
  communicationTimeout?: string;
  /**
   * Run functions/convergence/scheduled.handler, one round per tick, this often (Go-style duration).
   * Absent or 0: never (the tests call the converge routes themselves); `npm start` passes 30s.
   */
  convergenceInterval?: string;
  /** Run the same handler's expiry sweep this often, so expirations (a lost cell) reach the stream promptly. Absent or 0: never. */
  expirySweepInterval?: string;
  onError?: (error: unknown) => void;
}

/** Calls `tick` every `interval`, never two at once; stop() waits for the one in flight. */
function every(interval: string | undefined, tick: () => Promise<unknown>, onError?: (error: unknown) => void) {
  const ms = parseDurationMs(interval, 0);
  let running: Promise<unknown> | undefined;
  const timer =
    ms > 0
      ? setInterval(() => {
          running ??= tick()
            .catch((error) => onError?.(error))
            .finally(() => (running = undefined));
        }, ms)
      : undefined;
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export interface LocalStack {
  url: string;
  dynamodbEndpoint: string;
  tableName: string;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  let dynamodb: DynamoDBLocal | undefined;
  const endpoint =
    options.dynamodbEndpoint ??
    (dynamodb = await startDynamoDBLocal({ dataDir: options.inMemory ? undefined : (options.dataDir ?? ".bbs-data") })).endpoint;
  const tableName = options.tableName ?? "bbs";
  try {
    await createStoreTable(makeDynamoDBClient({ endpoint }), tableName);
    // The handlers build their context from the environment, exactly as on Lambda.
    process.env.BBS_DYNAMODB_ENDPOINT = endpoint;
    process.env.BBS_TABLE = tableName;
    if (options.auctioneerURL) process.env.BBS_AUCTIONEER_URL = options.auctioneerURL;
    else delete process.env.BBS_AUCTIONEER_URL;
    if (options.communicationTimeout) process.env.BBS_COMMUNICATION_TIMEOUT = options.communicationTimeout;
    const http = await startHttpServer({
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 8889,
      // GET /v1/events: its response-streaming handler, behind the awslambda shim.
      streaming: localStreamingServer({ onError: options.onError }),
      onError: options.onError,
    });
    const consumer = await loadHandler("functions/streams/store-changes.handler");
    const poller = startStreamPoller({
      endpoint,
      tableName,
      handler: (event) => consumer(event, undefined) as never,
      onError: options.onError,
    });
    const scheduled = await loadHandler("functions/convergence/scheduled.handler");
    const convergence = every(options.convergenceInterval, () => scheduled({ rounds: 1 }, undefined), options.onError);
    const sweeper = every(options.expirySweepInterval, () => scheduled({ sweepOnly: true }, undefined), options.onError);
    return {
      url: http.url,
      dynamodbEndpoint: endpoint,
      tableName,
      async stop() {
        await convergence.stop();
        await sweeper.stop();
        await http.close();
        await poller.stop();
        await dynamodb?.stop();
      },
    };
  } catch (error) {
    await dynamodb?.stop();
    throw error;
  }
}
