// The DynamoDB stream consumer: store changes in, BBS reactions out. First the batch's BBS events go
// to the event log (core/events: one transaction per up to 49 events, which a per-change reactor could
// not batch), then the reactors run (task callbacks, cell loss) on the changes whose events are safe.
// Partial batch failures let a failing record be retried from where it failed, without replaying the
// batch; a record that cannot be read is logged and skipped, never retried forever.
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { publishChangeEvents } from "../../core/events/publish";
import { reactToChanges } from "../../core/store-change-reactors";
import { toStoreChange, type DynamoDBStreamRecord } from "../../core/store/dynamo-stream";
import type { StoreChange } from "../../core/store/store";
import { bbsContext } from "../_shared/dependencies";

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const { ctx } = bbsContext();
  const changes: StoreChange[] = [];
  for (const record of event.Records) {
    try {
      const change = toStoreChange(record as unknown as DynamoDBStreamRecord, ctx.clock.nowMs());
      if (change) changes.push(change);
    } catch (error) {
      ctx.logger.error("skipped-unreadable-stream-record", error, { sequence: record.dynamodb?.SequenceNumber, event_id: record.eventID });
    }
  }
  const eventsFailedAt = await publishChangeEvents(ctx.store, changes, ctx.logger);
  const safe = eventsFailedAt === undefined ? changes : changes.slice(0, changes.findIndex((c) => c.sequence === eventsFailedAt));
  const failedAt = (await reactToChanges(ctx, safe)) ?? eventsFailedAt;
  return { batchItemFailures: failedAt === undefined ? [] : [{ itemIdentifier: failedAt }] };
};
