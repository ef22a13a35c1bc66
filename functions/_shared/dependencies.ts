// Builds the BBS context once per process (a Lambda cold start, or the local server), from config.
// The DynamoDB adapter is only reachable from here, so handlers never see DynamoDB.
import { droppingAuctioneerClient, httpAuctioneerClient } from "../../core/collaborators/auctioneer";
import { httpRepClient } from "../../core/collaborators/rep";
import { systemClock } from "../../core/clock";
import type { BBSContext } from "../../core/context";
import { jsonLogger } from "../../core/logger";
import { DynamoStore } from "../../core/store/dynamo-store";
import { makeDynamoDBClient } from "../../core/store/dynamo-table";
import { configFromEnv, type BBSConfig } from "./config";

let current: { ctx: BBSContext; config: BBSConfig } | undefined;

export function buildContext(config: BBSConfig): BBSContext {
  const logger = jsonLogger();
  const client = makeDynamoDBClient({ endpoint: config.dynamodbEndpoint, region: config.region });
  return {
    store: new DynamoStore({ client, tableName: config.tableName, clock: systemClock }),
    clock: systemClock,
    logger,
    auctioneer: config.auctioneerURL
      ? httpAuctioneerClient({ url: config.auctioneerURL, timeoutMs: config.communicationTimeoutMs })
      : droppingAuctioneerClient(logger),
    reps: httpRepClient({ timeoutMs: config.communicationTimeoutMs }),
    communicationTimeoutMs: config.communicationTimeoutMs,
  };
}

export function bbsContext(): { ctx: BBSContext; config: BBSConfig } {
  if (!current) {
    const config = configFromEnv();
    current = { ctx: buildContext(config), config };
  }
  return current;
}

/** Lets tests and the local stack run the handlers over a context they built (a manual clock, say). */
export function useContext(ctx: BBSContext, config: BBSConfig = configFromEnv()): void {
  current = { ctx, config };
}
