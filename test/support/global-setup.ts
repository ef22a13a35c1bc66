// One DynamoDB Local per test run, in memory, on a free port; each test file makes its own table.
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { startDynamoDBLocal } from "../../infra/local/dynamodb-local";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.BBS_TEST_DYNAMODB_ENDPOINT;
  const local = external ? undefined : await startDynamoDBLocal();
  project.provide("dynamodbEndpoint", external ?? local!.endpoint);
  return async () => {
    await local?.stop();
  };
}
