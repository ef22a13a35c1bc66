// The one definition of the store table: the SST stack, the local runner and the tests all create it
// from these constants, so the deployed and the local table cannot drift apart. The layout itself is
// explained in dynamo-table.md; DynamoStore (dynamo-store.ts) is the only code that reads or writes it.
import { dynamoError, DynamoDBHttpClient, type CreateTableInput, type DynamoDBCaller } from "./dynamo-client";

/** Attribute names of a store item. `l_<name>` attributes (labels) come on top. */
export const Attr = {
  /** `<root>#<shard>`, e.g. `/v1/actual#07`. */
  pk: "pk",
  /** The path below the root, e.g. `pg-1/0/instance`. */
  sk: "sk",
  /** The whole etcd key, e.g. `/v1/actual/pg-1/0/instance`; what stream consumers and filters read. */
  key: "key",
  /** Binary: the opaque value. */
  value: "value",
  /** Number: per-key modification counter (etcd modifiedIndex). */
  version: "version",
  /** Number: the store clock's Unix ms at the last write; tells whether a MODIFY overwrote an expired node. */
  writtenAtMs: "writtenAtMs",
  /** Number: exact Unix ms of expiry; only on nodes with a TTL. The store's own notion of expiry. */
  expiresAtMs: "expiresAtMs",
  /** Number: Unix seconds, rounded up; only on nodes with a TTL. DynamoDB's (lazy) TTL attribute. */
  expiresAt: "expiresAt",
  /** String `ttl#<shard>`; only on nodes with a TTL, which makes the expiry index sparse. */
  ttlShard: "ttlShard",
  /** String: the node's label names, sorted and comma-joined; lets a write prove which `l_*` it must remove. */
  labelNames: "labelNames",
} as const;

/** Labels are top-level String attributes so Lambda filters can match `dynamodb.NewImage.l_<name>.S`. */
export const LabelAttrPrefix = "l_";

/** Partition-key separator between the root and the zero-padded shard. */
export const ShardSeparator = "#";

/** Prefix of the expiry index hash key. */
export const TtlShardPrefix = "ttl#";

/**
 * Shards per root. Part of the data layout: every reader and writer of one table must use the same
 * number, and changing it means rewriting every item.
 */
export const DefaultShards = 16;

export const PrimaryIndex = { hashKey: Attr.pk, rangeKey: Attr.sk } as const;

/** The sparse GSI the sweeper queries: only nodes with a TTL carry `ttlShard`. */
export const ExpiryIndex = {
  name: "expiry",
  hashKey: Attr.ttlShard,
  rangeKey: Attr.expiresAtMs,
  /** Besides the table and index keys, the sweeper needs the version for its conditional delete. */
  nonKeyAttributes: [Attr.version, Attr.key],
} as const;

export const StreamViewType = "NEW_AND_OLD_IMAGES" as const;

/** DynamoDB's TTL attribute (epoch seconds). The store never relies on it for correctness. */
export const TtlAttribute = Attr.expiresAt;

/** DynamoDB's item size limit, counting attribute names and values. */
export const MaxItemBytes = 400 * 1024;

/** The key attributes by DynamoDB type, as CreateTable and SST's `fields` want them. */
export const KeyAttributeTypes = {
  [Attr.pk]: "S",
  [Attr.sk]: "S",
  [Attr.ttlShard]: "S",
  [Attr.expiresAtMs]: "N",
} as const;

/**
 * The same table in the shape of SST's `sst.aws.Dynamo` arguments (no sst import in core), e.g.
 * `new sst.aws.Dynamo("Store", StoreTableSstArgs)`.
 */
export const StoreTableSstArgs = {
  fields: { [Attr.pk]: "string", [Attr.sk]: "string", [Attr.ttlShard]: "string", [Attr.expiresAtMs]: "number" },
  primaryIndex: { hashKey: PrimaryIndex.hashKey, rangeKey: PrimaryIndex.rangeKey },
  globalIndexes: {
    [ExpiryIndex.name]: {
      hashKey: ExpiryIndex.hashKey,
      rangeKey: ExpiryIndex.rangeKey,
      projection: [...ExpiryIndex.nonKeyAttributes],
    },
  },
  stream: "new-and-old-images",
  ttl: TtlAttribute,
} as const;

export function storeTableDefinition(tableName: string): CreateTableInput {
  const attributeDefinitions = Object.entries(KeyAttributeTypes).map(([name, type]) => ({
    AttributeName: name,
    AttributeType: type,
  }));
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: attributeDefinitions,
    KeySchema: [
      { AttributeName: PrimaryIndex.hashKey, KeyType: "HASH" },
      { AttributeName: PrimaryIndex.rangeKey, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: ExpiryIndex.name,
        KeySchema: [
          { AttributeName: ExpiryIndex.hashKey, KeyType: "HASH" },
          { AttributeName: ExpiryIndex.rangeKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...ExpiryIndex.nonKeyAttributes] },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType },
  };
}

/**
 * Creates the store table (or accepts an existing one), waits until it and its index are ACTIVE, and
 * turns DynamoDB TTL on for `expiresAt`. Safe to call on every start.
 */
export async function createStoreTable(
  client: DynamoDBCaller,
  tableName: string,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  try {
    await client.call("CreateTable", storeTableDefinition(tableName));
  } catch (error) {
    if (!dynamoError(error, "ResourceInUseException")) throw error;
  }
  await waitUntilActive(client, tableName, options.timeoutMs ?? 120_000);
  await enableTtl(client, tableName);
}

async function waitUntilActive(client: DynamoDBCaller, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 2000)) {
    const { Table } = await client.call("DescribeTable", { TableName: tableName });
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === "ACTIVE");
    if (Table?.TableStatus === "ACTIVE" && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} not ACTIVE after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function enableTtl(client: DynamoDBCaller, tableName: string): Promise<void> {
  const { TimeToLiveDescription: ttl } = await client.call("DescribeTimeToLive", { TableName: tableName });
  if (ttl?.AttributeName === TtlAttribute && (ttl.TimeToLiveStatus === "ENABLED" || ttl.TimeToLiveStatus === "ENABLING")) {
    return;
  }
  await client.call("UpdateTimeToLive", {
    TableName: tableName,
    TimeToLiveSpecification: { Enabled: true, AttributeName: TtlAttribute },
  });
}

export interface DynamoDBClientOptions {
  /** e.g. `http://127.0.0.1:8000` for DynamoDB Local; omit for AWS. */
  endpoint?: string;
  region?: string;
  /** Sockets kept per client; the store fans out up to `shards` queries at once. */
  maxSockets?: number;
  /** Per-attempt deadline (dynamo-client.ts); none by default, as Lambda's timeout bounds a call. */
  timeoutMs?: number;
}

/** True for DynamoDB Local and friends: plain HTTP or a loopback host. */
export function isLocalEndpoint(endpoint: string): boolean {
  const url = new URL(endpoint);
  return url.protocol === "http:" || ["localhost", "127.0.0.1", "[::1]", "::1"].includes(url.hostname);
}

/**
 * The store's DynamoDB client (dynamo-client.ts) with keep-alive sockets. For a local endpoint it uses
 * fixed dummy credentials and region "local": DynamoDB Local runs with -sharedDb, so any key sees the
 * same tables, and nothing should go looking for real AWS credentials. Elsewhere the credentials come
 * from the environment, as Lambda sets them.
 */
export function makeDynamoDBClient(options: DynamoDBClientOptions = {}): DynamoDBHttpClient {
  const maxSockets = options.maxSockets ?? 64;
  if (options.endpoint && isLocalEndpoint(options.endpoint)) {
    return new DynamoDBHttpClient({
      endpoint: options.endpoint,
      region: options.region ?? "local",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxSockets,
      timeoutMs: options.timeoutMs,
    });
  }
  return new DynamoDBHttpClient({ endpoint: options.endpoint, region: options.region, maxSockets, timeoutMs: options.timeoutMs });
}
