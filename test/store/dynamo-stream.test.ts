// The stream mapping against DynamoDB Local's REAL stream: records are read with the local stream
// poller's shard reader, converted to the Lambda shape with fromStreamsApiRecord and mapped with
// toStoreChange, as the poller does before it calls the stream consumer.
import {
  CreateTableCommand,
  DescribeTableCommand,
  PutItemCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient, ListStreamsCommand, type _Record } from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord } from "aws-lambda";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { startDynamoDBLocal } from "../../infra/local/dynamodb-local";
import { openShardCursor, readShard, streamsClientFor, type ShardCursor } from "../../infra/local/stream-poller";
import { ManualClock } from "../../core/clock";
import {
  fromStreamsApiRecord,
  toStoreChange,
  type DynamoDBStreamRecord,
  type StreamsApiRecord,
} from "../../core/store/dynamo-stream";
import { locateKey } from "../../core/store/dynamo-store";
import { Attr, TtlAttribute } from "../../core/store/dynamo-table";
import { domainKey, evacuatingActualLRPKey, taskKey } from "../../core/store/keys";
import type { StoreChange } from "../../core/store/store";
import { freshStore, randomTableName, sdkClient, testClient } from "../support/dynamo";

// Compile-time: Lambda's record type and ours convert both ways, and the SDK's record fits ours.
const _fromLambda = (r: DynamoDBRecord): DynamoDBStreamRecord => r;
const _toLambda = (r: DynamoDBStreamRecord): DynamoDBRecord => r;
const _fromSdk = (r: _Record): StreamsApiRecord => r;
void [_fromLambda, _toLambda, _fromSdk];

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => new TextDecoder().decode(value);

let streams: DynamoDBStreamsClient | undefined;
function streamsClient(): DynamoDBStreamsClient {
  streams ??= streamsClientFor(testClient().endpoint);
  return streams;
}
afterAll(() => streams?.destroy());

/** Reads a table's stream from its beginning, remembering where each shard stopped. */
class StreamReader {
  private readonly cursors = new Map<string, ShardCursor>();
  private constructor(
    readonly streamArn: string,
    private readonly client: DynamoDBStreamsClient,
  ) {}

  static async open(tableName: string, client: DynamoDBStreamsClient = streamsClient()): Promise<StreamReader> {
    const { Streams } = await client.send(new ListStreamsCommand({ TableName: tableName }));
    const arn = Streams?.[0]?.StreamArn;
    if (!arn) throw new Error(`no stream on ${tableName}`);
    return new StreamReader(arn, client);
  }

  async read(): Promise<_Record[]> {
    const { StreamDescription } = await this.client.send(new DescribeStreamCommand({ StreamArn: this.streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!this.cursors.has(shard.ShardId!)) this.cursors.set(shard.ShardId!, await openShardCursor(this.client, this.streamArn, shard.ShardId!));
    }
    const records: _Record[] = [];
    for (const cursor of this.cursors.values()) {
      while (!cursor.closed) {
        const page = await readShard(this.client, this.streamArn, cursor);
        records.push(...page);
        if (page.length === 0) break;
      }
    }
    return records;
  }

  /** Polls until `enough(all records so far)` or the deadline. */
  async readUntil(enough: (records: _Record[]) => boolean, timeoutMs: number, pollMs = 50): Promise<_Record[]> {
    const deadline = Date.now() + timeoutMs;
    const all: _Record[] = [];
    for (;;) {
      all.push(...(await this.read()));
      if (enough(all) || Date.now() > deadline) return all;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

describe("DynamoDB stream → StoreChange", () => {
  it("maps create, CAS, delete, a sweep of an expired node and a write over an expired node", async () => {
    const clock = new ManualClock();
    const { store, tableName } = await freshStore({ clock, stream: true });
    const reader = await StreamReader.open(tableName);

    const key = taskKey("t1");
    const created = await store.create(key, bytes("pending"), { labels: { domain: "cf-apps" } });
    const swapped = await store.compareAndSwap(key, bytes("running"), created.version, { labels: { domain: "cf-apps", cell_id: "c1" } });
    await store.delete(key);

    const evacuating = evacuatingActualLRPKey("pg-1", 0);
    const doomed = await store.create(evacuating, bytes("ev"), { ttlSeconds: 10 });
    clock.advance(10_000);
    expect(await store.sweepExpired()).toBe(1);

    const domain = domainKey("d");
    const lapsed = await store.set(domain, bytes(""), { ttlSeconds: 5 });
    clock.advance(5_000);
    const reborn = await store.create(domain, bytes("back"));

    const records = await reader.readUntil((r) => r.length >= 7, 10_000);
    expect(records.map((r) => r.eventName)).toEqual(["INSERT", "MODIFY", "REMOVE", "INSERT", "REMOVE", "INSERT", "MODIFY"]);

    const lambda = records.map((r) => fromStreamsApiRecord(r, reader.streamArn));
    for (const record of lambda) {
      expect(record.eventSourceARN).toBe(reader.streamArn);
      expect(typeof record.dynamodb?.ApproximateCreationDateTime).toBe("number");
      expect(record.dynamodb?.StreamViewType).toBe("NEW_AND_OLD_IMAGES");
    }
    // Binary arrives base64-encoded, as in a Lambda event.
    expect(lambda[0]!.dynamodb?.NewImage?.[Attr.value]?.B).toBe(Buffer.from("pending").toString("base64"));

    const changes = lambda.map((r) => toStoreChange(r, clock.nowMs())) as StoreChange[];
    const [insert, modify, remove, insertEv, sweep, insertDomain, recreate] = changes;

    expect(insert).toMatchObject({ key, expired: false });
    expect(insert!.before).toBeUndefined();
    expect(insert!.after).toMatchObject({ key, version: created.version, labels: { domain: "cf-apps" } });
    expect(text(insert!.after!.value)).toBe("pending");

    expect(modify).toMatchObject({ key, expired: false });
    expect(modify!.before).toMatchObject({ version: created.version, labels: { domain: "cf-apps" } });
    expect(modify!.after).toMatchObject({ version: swapped.version, labels: { domain: "cf-apps", cell_id: "c1" } });
    expect(text(modify!.before!.value)).toBe("pending");
    expect(text(modify!.after!.value)).toBe("running");

    expect(remove).toMatchObject({ key, expired: false });
    expect(remove!.after).toBeUndefined();
    expect(remove!.before).toMatchObject({ version: swapped.version });
    expect(records[2]!.userIdentity).toBeUndefined();

    expect(insertEv!.after).toMatchObject({ key: evacuating, version: doomed.version, expiresAtMs: doomed.expiresAtMs });
    expect(sweep).toMatchObject({ key: evacuating, expired: true });
    expect(sweep!.after).toBeUndefined();
    expect(sweep!.before).toMatchObject({ version: doomed.version });

    expect(insertDomain!.after).toMatchObject({ key: domain, version: lapsed.version });
    // The old node had expired when it was overwritten: a create, not a change.
    expect(recreate).toMatchObject({ key: domain, expired: false });
    expect(recreate!.before).toBeUndefined();
    expect(recreate!.after).toMatchObject({ version: reborn.version });
    expect(reborn.version).toBe(lapsed.version + 1);

    const sequences = changes.map((c) => BigInt(c.sequence));
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]! > sequences[i - 1]!).toBe(true);
  });

  it("keeps a MODIFY of a live node with a TTL a change", async () => {
    const clock = new ManualClock();
    const { store, tableName } = await freshStore({ clock, stream: true });
    const reader = await StreamReader.open(tableName);
    const key = domainKey("d");
    const first = await store.set(key, bytes(""), { ttlSeconds: 10 });
    clock.advance(9_000);
    const second = await store.set(key, bytes(""), { ttlSeconds: 10 });
    const records = await reader.readUntil((r) => r.length >= 2, 10_000);
    // Consumed long after the first TTL passed: the write time in the item, not the consumer clock, decides.
    const change = toStoreChange(fromStreamsApiRecord(records[1]!), clock.nowMs() + 60_000);
    expect(change?.before?.version).toBe(first.version);
    expect(change?.after?.version).toBe(second.version);
  });

  it(
    "marks a REMOVE by DynamoDB's own TTL reaper as expired, by its userIdentity",
    async () => {
      // DynamoDB Local only TTL-deletes on tables without a GSI, so this table has none. It runs one
      // reaper thread per TTL-enabled table from a pool of 10, and tables created once the pool is
      // full are never reaped: the run's shared instance holds every test file's tables, so this
      // test gets an instance of its own.
      const local = await startDynamoDBLocal({ startTimeoutMs: 60_000 });
      onTestFinished(() => local.stop());
      const client = sdkClient(local.endpoint);
      onTestFinished(() => client.destroy());
      const streams = streamsClientFor(local.endpoint);
      onTestFinished(() => streams.destroy());
      const tableName = randomTableName("bbs-ttl");
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [
            { AttributeName: Attr.pk, AttributeType: "S" },
            { AttributeName: Attr.sk, AttributeType: "S" },
          ],
          KeySchema: [
            { AttributeName: Attr.pk, KeyType: "HASH" },
            { AttributeName: Attr.sk, KeyType: "RANGE" },
          ],
          StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
        }),
      );
      while ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== "ACTIVE") {
        await new Promise((r) => setTimeout(r, 50));
      }
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: TtlAttribute } }),
      );
      const reader = await StreamReader.open(tableName, streams);

      const key = domainKey("reaped");
      const { pk, sk } = locateKey(key);
      const expiresAtMs = Date.now() - 60_000;
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            [Attr.pk]: { S: pk },
            [Attr.sk]: { S: sk },
            [Attr.key]: { S: key },
            [Attr.value]: { B: bytes("domain") },
            [Attr.version]: { N: "42" },
            [Attr.expiresAtMs]: { N: String(expiresAtMs) },
            [Attr.expiresAt]: { N: String(Math.ceil(expiresAtMs / 1000)) },
          },
        }),
      );
      // Not a store node: no `key` attribute.
      await client.send(
        new PutItemCommand({ TableName: tableName, Item: { [Attr.pk]: { S: "/v1/locks" }, [Attr.sk]: { S: "bbs" } } }),
      );

      // The reaper's record: a REMOVE with the service identity on AWS; DynamoDB Local 3.x instead
      // writes eventName "UNKNOWN_TO_SDK_VERSION" and no userIdentity (fromStreamsApiRecord repairs it).
      const isReaped = (r: _Record) => r.dynamodb?.OldImage !== undefined && r.dynamodb.NewImage === undefined;
      const records = await reader.readUntil((r) => r.some(isReaped), 90_000, 1_000);
      const removed = records.find(isReaped);
      expect(removed, "DynamoDB Local's TTL reaper did not delete the item within 90 s").toBeDefined();
      const raw = { eventName: removed!.eventName as string, userIdentity: removed!.userIdentity };
      expect([
        { eventName: "REMOVE", userIdentity: { Type: "Service", PrincipalId: "dynamodb.amazonaws.com" } },
        { eventName: "UNKNOWN_TO_SDK_VERSION", userIdentity: undefined },
      ]).toContainEqual(raw);

      const lambda = fromStreamsApiRecord(removed!, reader.streamArn);
      expect(lambda.eventName).toBe("REMOVE");
      expect(lambda.userIdentity).toEqual({ type: "Service", principalId: "dynamodb.amazonaws.com" });
      // A consumer clock before the expiry: only the userIdentity rule can say "expired" here.
      const change = toStoreChange(lambda, expiresAtMs - 3_600_000);
      expect(change).toMatchObject({ key, expired: true });
      expect(change!.after).toBeUndefined();
      expect(change!.before).toMatchObject({ key, version: 42, expiresAtMs });
      expect(text(change!.before!.value)).toBe("domain");

      const foreign = records.find((r) => r.eventName === "INSERT" && r.dynamodb?.Keys?.[Attr.pk]?.S === "/v1/locks");
      expect(foreign).toBeDefined();
      expect(toStoreChange(fromStreamsApiRecord(foreign!), Date.now())).toBeUndefined();
    },
    120_000,
  );
});
