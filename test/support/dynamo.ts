// A fresh, randomly named store table on the run's DynamoDB Local, so test files never share data.
import { randomBytes } from "node:crypto";
import { inject, onTestFinished } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { systemClock, type Clock } from "../../core/clock";
import type { DynamoDBHttpClient, WriteRequest } from "../../core/store/dynamo-client";
import { DynamoStore, plainNodeItem } from "../../core/store/dynamo-store";
import { makeDynamoDBClient } from "../../core/store/dynamo-table";
import { createTestTable } from "./store-table";

export interface FreshStore {
  store: DynamoStore;
  /** The client the store uses, the one that ships. */
  client: DynamoDBHttpClient;
  /** The AWS SDK on the same endpoint: an independent reader for checks on the raw items. */
  sdk: DynamoDBClient;
  tableName: string;
  endpoint: string;
}

interface TestClients {
  endpoint: string;
  client: DynamoDBHttpClient;
  sdk: DynamoDBClient;
}

let shared: TestClients | undefined;

/** An AWS SDK client for DynamoDB Local. */
export function sdkClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

/** One keep-alive client (and one SDK client) per test file (per endpoint). */
export function testClient(): TestClients {
  const endpoint = inject("dynamodbEndpoint");
  if (shared?.endpoint !== endpoint) shared = { endpoint, client: makeDynamoDBClient({ endpoint }), sdk: sdkClient(endpoint) };
  return shared;
}

export function randomTableName(prefix = "bbs-test"): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

/**
 * Called inside a test, the table is dropped when the test ends. That keeps DynamoDB Local small, and
 * it matters for its TTL reaper: each TTL-enabled table holds one of its 10 job threads until the
 * table is deleted, and tables beyond that are never reaped. The table has a stream only when the
 * test reads it (`stream: true`): see createTestTable.
 */
export async function freshStore(options: { clock?: Clock; shards?: number; stream?: boolean } = {}): Promise<FreshStore> {
  const { client, sdk, endpoint } = testClient();
  const tableName = randomTableName();
  await createTestTable(client, tableName, { stream: options.stream ?? false });
  try {
    onTestFinished(async () => {
      await client.call("DeleteTable", { TableName: tableName });
    });
  } catch {
    // Not inside a test (beforeAll, say): the table lives until DynamoDB Local stops.
  }
  const store = new DynamoStore({ client, tableName, clock: options.clock ?? systemClock, shards: options.shards });
  return { store, client, sdk, tableName, endpoint };
}

/**
 * Loads plain nodes (no TTL, no labels) with BatchWriteItem, 25 items a request, 8 requests at a time:
 * DynamoDB Local takes a few hundred conditional writes a second, which is too slow for big fixtures.
 */
export async function bulkLoad(store: DynamoStore, nodes: readonly { key: string; value: Uint8Array }[]): Promise<void> {
  const now = Date.now();
  const requests: WriteRequest[] = nodes.map((node) => ({
    PutRequest: { Item: plainNodeItem(node.key, node.value, now * 1000 + 1, now, store.shards) },
  }));
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        let pending: WriteRequest[] | undefined = batches[next++];
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
          const { UnprocessedItems } = await store.client.call("BatchWriteItem", {
            RequestItems: { [store.tableName]: pending },
          });
          pending = UnprocessedItems?.[store.tableName];
        }
      }
    }),
  );
}
