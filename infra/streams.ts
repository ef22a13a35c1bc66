// The single consumer of the table's stream (events, task callbacks, cell loss all start here).
import { storeChangesFunction } from "./api-routes";
import { functionArgs } from "./functions";
import { Roots } from "../core/store/keys";
import { ShardSeparator } from "../core/store/dynamo-table";
import { table } from "./table";

/**
 * Where a batch lands when it still fails after the retries below. For DynamoDB streams Lambda sends
 * SQS the batch's coordinates (shard, first and last sequence number, event source ARN), not the
 * records: replay them from the stream while it still holds them (24 h), hence the 6 h age limit.
 */
export const storeChangesFailures = new sst.aws.Queue("StoreChangesFailures", {
  transform: {
    queue: (args) => {
      args.messageRetentionSeconds = 14 * 24 * 60 * 60;
    },
  },
});

export const storeChanges = table.subscribe(
  storeChangesFunction.id,
  functionArgs(storeChangesFunction, {
    timeout: "1 minute",
    permissions: [{ actions: ["sqs:SendMessage"], resources: [storeChangesFailures.arn] }],
  }),
  {
    // Only the BBS's own nodes: the event log's writes (three per event) would otherwise invoke the
    // consumer just to be ignored. Lambda filters have no "anything but this prefix", so list the roots.
    filters: [{ dynamodb: { Keys: { pk: { S: Roots.map((root) => ({ prefix: `${root}${ShardSeparator}` })) } } } }],
    transform: {
      eventSourceMapping: (args) => {
        // SST hard-codes LATEST; a new consumer must not skip what is already in the stream.
        args.startingPosition = "TRIM_HORIZON";
        args.batchSize = 100;
        args.maximumBatchingWindowInSeconds = 0;
        // One batch per shard at a time keeps per-key order.
        args.parallelizationFactor = 1;
        // The handler reports the first record it could not handle; Lambda retries from there.
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        args.bisectBatchOnFunctionError = true;
        args.maximumRetryAttempts = 10;
        args.maximumRecordAgeInSeconds = 6 * 60 * 60;
        args.destinationConfig = { onFailure: { destinationArn: storeChangesFailures.arn } };
      },
    },
  },
);
