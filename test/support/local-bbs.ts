// Starts the local stack in this test file's process, against the run's DynamoDB Local, with a fresh
// table and a free port: the same handlers `npm start` serves.
import { inject } from "vitest";
import { freePort } from "../../infra/local/dynamodb-local";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../../infra/local/stack";

export async function startTestBBS(options: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  return startLocalStack({
    host: "127.0.0.1",
    port: await freePort(),
    dynamodbEndpoint: inject("dynamodbEndpoint"),
    tableName: `bbs-e2e-${crypto.randomUUID().slice(0, 8)}`,
    onError: (error) => console.error(`[local stack ${new Date().toISOString()}]`, error),
    ...options,
  });
}
