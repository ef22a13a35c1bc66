// Stands in for Lambda's DynamoDB event source mapping: reads the table's stream through the
// Streams API and invokes the stream consumer handler with the very event shape Lambda would send,
// honouring its partial batch failures (retry from the failed record, then give up and log it, as
// the on-failure destination would keep it).
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

interface ShardCursor {
  iterator?: string;
  /** Sequence number to resume at after a failed batch. */
  retryFrom?: string;
  retries: number;
  closed: boolean;
}

export function startStreamPoller(options: StreamPollerOptions): { stop(): Promise<void> } {
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };
  const streams = new DynamoDBStreamsClient({ endpoint: options.endpoint, region: "local", credentials });
  const dynamodb = makeDynamoDBClient({ endpoint: options.endpoint });
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
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
      );
      cursors.set(shard.ShardId, { iterator: ShardIterator, retries: 0, closed: false });
    }
  }

  async function deliver(shardId: string, cursor: ShardCursor, records: _Record[]) {
    const event: DynamoDBStreamEvent = {
      Records: records.map((r) => fromStreamsApiRecord(r as never, streamArn ?? "")) as unknown as DynamoDBStreamEvent["Records"],
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
      return;
    }
    const lowest = failed.reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b));
    if (cursor.retries >= (options.maxRetries ?? 5)) {
      options.onError?.(new Error(`giving up on stream record ${lowest} of shard ${shardId} after ${cursor.retries} retries`));
      cursor.retries = 0;
      const rest = records.filter((r) => BigInt(r.dynamodb?.SequenceNumber ?? "0") > BigInt(lowest));
      if (rest.length > 0) await deliver(shardId, cursor, rest);
      return;
    }
    cursor.retries++;
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: "AT_SEQUENCE_NUMBER", SequenceNumber: lowest }),
    );
    cursor.iterator = ShardIterator;
  }

  async function pollOnce(): Promise<boolean> {
    let delivered = false;
    for (const [shardId, cursor] of cursors) {
      if (cursor.closed || !cursor.iterator) continue;
      const iterator = cursor.iterator;
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: options.batchSize ?? 100 }));
      const records = page.Records ?? [];
      cursor.iterator = page.NextShardIterator;
      if (!page.NextShardIterator) cursor.closed = true;
      if (records.length > 0) {
        delivered = true;
        await deliver(shardId, cursor, records);
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
