// Stands in for Lambda's DynamoDB event source mapping: reads the table's stream through the
// Streams API and invokes the stream consumer handler with the very event shape Lambda would send,
// honouring its partial batch failures (retry from the failed record, then give up and log it, as
// the on-failure destination would keep it).
//
// A shard iterator can go stale: DynamoDB Local refuses a TRIM_HORIZON iterator taken on an empty
// shard with TrimmedDataAccessException once other tables have written before this shard's first
// record, and AWS expires iterators after 15 minutes. Retrying such an iterator fails forever, so
// the shard is reopened after the last record it delivered, as the event source mapping does.
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { fromStreamsApiRecord } from "../../core/store/dynamo-stream";
import { makeDynamoDBClient } from "../../core/store/dynamo-table";

export interface StreamPollerOptions {
  endpoint: string;
  tableName: string;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  batchSize?: number;
  idleDelayMs?: number;
  maxRetries?: number;
  onError?: (error: unknown) => void;
}

export interface ShardCursor {
  shardId: string;
  iterator?: string;
  /** The last record handed to the handler and not asked back: a stale iterator resumes after it. */
  lastSequence?: string;
  retries: number;
  closed: boolean;
}

/** No Streams or DynamoDB call of the poller waits longer than this; a lost answer is retried. */
const RequestTimeoutMs = 10_000;

const StaleIteratorErrors = new Set(["TrimmedDataAccessException", "ExpiredIteratorException"]);

async function openIterator(streams: DynamoDBStreamsClient, streamArn: string, cursor: ShardCursor): Promise<void> {
  const position = cursor.lastSequence
    ? ({ ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: cursor.lastSequence } as const)
    : ({ ShardIteratorType: "TRIM_HORIZON" } as const);
  const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: cursor.shardId, ...position }));
  cursor.iterator = ShardIterator;
}

/** A cursor at the oldest record the shard keeps. */
export async function openShardCursor(streams: DynamoDBStreamsClient, streamArn: string, shardId: string): Promise<ShardCursor> {
  const cursor: ShardCursor = { shardId, retries: 0, closed: false };
  await openIterator(streams, streamArn, cursor);
  return cursor;
}

/** The shard's next page of records, advancing the cursor; reopens a stale iterator once. */
export async function readShard(streams: DynamoDBStreamsClient, streamArn: string, cursor: ShardCursor, limit = 100): Promise<_Record[]> {
  for (let reopened = false; ; reopened = true) {
    try {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: limit }));
      cursor.iterator = page.NextShardIterator;
      if (!page.NextShardIterator) cursor.closed = true;
      return page.Records ?? [];
    } catch (error) {
      if (reopened || !(error instanceof Error) || !StaleIteratorErrors.has(error.name)) throw error;
      await openIterator(streams, streamArn, cursor);
    }
  }
}

export function streamsClientFor(endpoint: string): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    requestHandler: { requestTimeout: RequestTimeoutMs },
  });
}

export function startStreamPoller(options: StreamPollerOptions): { stop(): Promise<void> } {
  const streams = streamsClientFor(options.endpoint);
  const dynamodb = makeDynamoDBClient({ endpoint: options.endpoint, timeoutMs: RequestTimeoutMs });
  const cursors = new Map<string, ShardCursor>();
  let running = true;
  let streamArn: string | undefined;

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function discoverShards() {
    if (!streamArn) {
      const table = await dynamodb.call("DescribeTable", { TableName: options.tableName });
      streamArn = table.Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
    }
    const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of description.StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || cursors.has(shard.ShardId)) continue;
      cursors.set(shard.ShardId, await openShardCursor(streams, streamArn, shard.ShardId));
    }
  }

  const sequenceOf = (record: _Record) => BigInt(record.dynamodb?.SequenceNumber ?? "0");

  async function deliver(arn: string, cursor: ShardCursor, records: _Record[]): Promise<void> {
    const event: DynamoDBStreamEvent = {
      Records: records.map((r) => fromStreamsApiRecord(r as never, arn)) as unknown as DynamoDBStreamEvent["Records"],
    };
    let response: DynamoDBBatchResponse | void;
    try {
      response = await options.handler(event);
    } catch (error) {
      options.onError?.(error);
      response = { batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber ?? "" }] };
    }
    const failed = response?.batchItemFailures?.map((f) => f.itemIdentifier).filter(Boolean) ?? [];
    if (failed.length === 0) {
      cursor.retries = 0;
      cursor.lastSequence = records.at(-1)?.dynamodb?.SequenceNumber ?? cursor.lastSequence;
      return;
    }
    const lowest = failed.reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b));
    const handled = records.filter((r) => sequenceOf(r) < BigInt(lowest));
    cursor.lastSequence = handled.at(-1)?.dynamodb?.SequenceNumber ?? cursor.lastSequence;
    if (cursor.retries >= (options.maxRetries ?? 5)) {
      options.onError?.(new Error(`giving up on stream record ${lowest} of shard ${cursor.shardId} after ${cursor.retries} retries`));
      cursor.retries = 0;
      cursor.lastSequence = lowest;
      const rest = records.filter((r) => sequenceOf(r) > BigInt(lowest));
      if (rest.length > 0) await deliver(arn, cursor, rest);
      return;
    }
    cursor.retries++;
    // After the last record handled, that is at the failed one.
    await openIterator(streams, arn, cursor);
  }

  async function pollOnce(): Promise<boolean> {
    let delivered = false;
    for (const cursor of cursors.values()) {
      if (cursor.closed || !cursor.iterator || !streamArn) continue;
      const records = await readShard(streams, streamArn, cursor, options.batchSize ?? 100);
      if (records.length > 0) {
        delivered = true;
        await deliver(streamArn, cursor, records);
      }
    }
    return delivered;
  }

  const loop = (async () => {
    let sinceDiscovery = Infinity;
    while (running) {
      try {
        if (sinceDiscovery > 20) {
          await discoverShards();
          sinceDiscovery = 0;
        }
        sinceDiscovery++;
        const busy = await pollOnce();
        if (!busy) await sleep(options.idleDelayMs ?? 25);
      } catch (error) {
        options.onError?.(error);
        await sleep(500);
      }
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      streams.destroy();
      dynamodb.destroy();
    },
  };
}
