// The store table for tests and the bench: exactly the deployed definition, with or without its stream.
import type { DynamoDBCaller } from "../../core/store/dynamo-client";
import { createStoreTable, storeTableDefinition } from "../../core/store/dynamo-table";

/**
 * Creates the table as `createStoreTable` does, leaving out the stream unless `stream` is set.
 *
 * Only code that reads the stream should ask for one. DynamoDB Local keeps every stream record it
 * has written, even those of deleted tables, and each write after that is slower: on this machine
 * 30,000 items loaded in 7 s on a fresh instance, then 82 s with streams on, then 341 s for the next
 * 30,000 (5–7 s each without streams). Over a whole test run that turned a 7 s test into a 60 s
 * timeout. Reads and conditional writes behave the same either way.
 */
export async function createTestTable(client: DynamoDBCaller, tableName: string, options: { stream: boolean }): Promise<void> {
  if (!options.stream) {
    const definition = storeTableDefinition(tableName);
    delete definition.StreamSpecification;
    await client.call("CreateTable", definition);
  }
  await createStoreTable(client, tableName);
}
